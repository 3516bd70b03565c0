"""O fail point ``failCommand`` do MongoDB (``configureFailPoint``), para injetar falhas pela rede.

É a mesma API de teste que o servidor de verdade expõe com ``--setParameter
enableTestCommands=1`` e que a suíte de testes do pymongo usa; um teste escrito com ela
roda igual contra o mongowire e contra um ``mongod``::

    client.admin.command({
        "configureFailPoint": "failCommand",
        "mode": {"times": 1},                     # "alwaysOn" | "off" | {"times": N} | {"skip": N}
        "data": {"failCommands": ["insert"], "closeConnection": True},
    })

Semântica (a do servidor; referências: a página "The failCommand fail point" da wiki do
``mongodb/mongo``, ``CommandHelpers::evaluateFailCommandFailPoint`` em
``src/mongo/db/commands.cpp`` e ``ErrorLabelBuilder`` em ``src/mongo/db/error_labels.cpp``):

* Um comando é afetado se o nome dele está em ``failCommands`` (e, quando dados,
  ``appName`` é o ``client.application.name`` do aperto de mão da conexão e ``namespace``
  é o ``banco.coleção`` do comando). ``configureFailPoint`` nunca é afetado.
* ``blockConnection`` + ``blockTimeMS``: segura só aquela conexão pelo tempo pedido; sem
  outro efeito, o comando roda normalmente depois.
* ``closeConnection``: fecha o socket **sem responder e sem executar o comando** (o
  cliente vê um erro de rede; no pymongo, ``AutoReconnect``).
* ``errorCode``: responde ``ok: 0`` com o código, **sem executar o comando**.
* ``writeConcernError`` (só comandos de escrita, e só se nem ``closeConnection`` nem
  ``errorCode`` valem): **executa** a escrita e anexa o erro à resposta — a escrita
  aconteceu, mas o cliente recebe erro ("gravou, a confirmação se perdeu").
* ``errorLabels`` substitui os rótulos que o servidor calcularia; sem ele, uma escrita
  repetível (com ``txnNumber``) que falha com código repetível (ou com
  ``writeConcernError`` de código repetível) recebe ``RetryableWriteError``, como num
  servidor 4.4+ — é esse rótulo que faz o pymongo repetir a escrita sozinho.
* ``mode``: ``{times: N}`` dispara nas N próximas vezes e desliga; ``{skip: N}`` deixa
  passar as N primeiras e depois dispara sempre; ``{activationProbability: p}`` dispara
  ao acaso. A resposta traz ``count``: quantas vezes o fail point já disparou.

Diferença conhecida: no servidor, ``blockConnection`` e ``writeConcernError`` no mesmo
fail point contam como duas entradas (dois pontos de avaliação); aqui, como uma.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

FAIL_COMMAND = "failCommand"
FAILPOINT_MESSAGE = "Failing command via 'failCommand' failpoint"

# Códigos repetíveis da especificação de escritas repetíveis (o servidor os marca com
# ``RetryableWriteError`` numa escrita repetível): rede, "não é primário", desligando.
RETRYABLE_CODES = frozenset({6, 7, 89, 91, 134, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436})
# Erros "não sou o primário": num conjunto de réplicas, o servidor sempre os manda com a
# ``topologyVersion`` atual (e o driver, vendo que ela não é nova, não derruba o servidor).
NOT_PRIMARY_CODES = frozenset({189, 10107, 11602, 13435, 13436})
# Comandos que aceitam ``writeConcern`` (os únicos que um ``writeConcernError`` afeta).
WRITE_CONCERN_COMMANDS = frozenset(
    {
        "insert",
        "update",
        "delete",
        "findAndModify",
        "findandmodify",
        "create",
        "drop",
        "dropDatabase",
        "createIndexes",
        "dropIndexes",
        "deleteIndexes",
        "renameCollection",
        "commitTransaction",
        "abortTransaction",
    }
)
# Escritas que o driver repete com o mesmo ``lsid`` + ``txnNumber``.
RETRYABLE_WRITE_COMMANDS = frozenset({"insert", "update", "delete", "findAndModify", "findandmodify"})
# Nomes alternativos de um mesmo comando (``failCommands`` aceita qualquer um deles).
_ALIASES = {
    "findandmodify": "findAndModify",
    "ismaster": "isMaster",
    "buildinfo": "buildInfo",
    "deleteIndexes": "dropIndexes",
}


class FailPointError(ValueError):
    """Configuração inválida de um fail point (vira ``ok: 0`` com código 2, BadValue)."""


def canonical_name(command_name: str) -> str:
    return _ALIASES.get(command_name, command_name)


def is_retryable_write(command: dict[str, Any]) -> bool:
    """Escrita repetível: traz ``txnNumber`` e não está numa transação (sem ``autocommit``)."""
    name = next(iter(command), "")
    return name in RETRYABLE_WRITE_COMMANDS and "txnNumber" in command and "autocommit" not in command


def error_labels(command: dict[str, Any], *, code: int | None, wc_code: int | None, executed: bool) -> list[str]:
    """Rótulos que um servidor 4.4+ põe na resposta (só os de escrita repetível importam aqui)."""
    if not is_retryable_write(command):
        return []
    if code in RETRYABLE_CODES or wc_code in RETRYABLE_CODES:
        return ["RetryableWriteError"] if executed else ["RetryableWriteError", "NoWritesPerformed"]
    return []


@dataclass(frozen=True)
class FailAction:
    """O que o servidor faz com um comando atingido pelo fail point."""

    block_seconds: float = 0.0
    close_connection: bool = False
    error_code: int | None = None
    write_concern_error: dict[str, Any] | None = None
    labels: list[str] | None = None  # ``None``: os rótulos calculados pelo servidor

    def error_reply(
        self, command: dict[str, Any], code_names: dict[int, str], topology_version: dict[str, Any] | None
    ) -> dict[str, Any]:
        """A resposta ``ok: 0`` do ``errorCode`` (o comando não foi executado).

        ``topology_version``: a do servidor, se ele é um conjunto de réplicas (vai nos erros
        "não sou o primário", como no ``mongod``).
        """
        code = int(self.error_code or 0)
        reply: dict[str, Any] = {
            "ok": 0.0,
            "errmsg": FAILPOINT_MESSAGE,
            "code": code,
            "codeName": code_names.get(code, "UnknownError"),
        }
        labels = self.labels
        if labels is None:
            labels = error_labels(command, code=code, wc_code=None, executed=False)
        if labels:
            reply["errorLabels"] = list(labels)
        if topology_version is not None and code in NOT_PRIMARY_CODES:
            reply["topologyVersion"] = dict(topology_version)
        return reply

    def attach_write_concern_error(self, command: dict[str, Any], reply: dict[str, Any]) -> None:
        """Anexa o ``writeConcernError`` (e os rótulos) à resposta de uma escrita executada."""
        if self.write_concern_error is None or not reply.get("ok"):
            return
        reply["writeConcernError"] = dict(self.write_concern_error)
        labels = self.labels
        if labels is None:
            wc_code = self.write_concern_error.get("code")
            code = wc_code if isinstance(wc_code, int) else None
            labels = error_labels(command, code=None, wc_code=code, executed=True)
        if labels:
            reply["errorLabels"] = list(labels)


@dataclass
class FailCommandPoint:
    """Estado do ``failCommand``: modo, dados e quantas vezes já disparou."""

    mode: str = "off"  # "off" | "alwaysOn" | "times" | "skip" | "random"
    value: float = 0
    data: dict[str, Any] = field(default_factory=dict)
    entered: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def configure(self, mode: Any, data: Any) -> int:
        """Troca o modo (e os dados); devolve quantas vezes disparou até agora (``count``)."""
        parsed_mode, value = _parse_mode(mode)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise FailPointError("'data' deve ser um documento")
        if parsed_mode != "off":
            _validate_data(data)
        with self._lock:
            self.mode, self.value, self.data = parsed_mode, value, dict(data)
            return self.entered

    def reset(self) -> None:
        """Desliga o fail point (como num ``mongod`` recém-iniciado)."""
        with self._lock:
            self.mode, self.value, self.data, self.entered = "off", 0, {}, 0

    def evaluate(self, command: dict[str, Any], app_name: str | None) -> FailAction | None:
        """A ação para este comando, ou ``None`` se o fail point não o atinge agora."""
        if not command:
            return None
        name = next(iter(command))
        with self._lock:
            if self.mode == "off" or name == "configureFailPoint":
                return None
            action = self._action_for(command, name, app_name)
            if action is None or not self._fires():
                return None
            self.entered += 1
            return action

    def _action_for(self, command: dict[str, Any], name: str, app_name: str | None) -> FailAction | None:
        data = self.data
        wanted = {canonical_name(item) for item in data.get("failCommands", []) if isinstance(item, str)}
        if canonical_name(name) not in wanted:
            return None
        if "appName" in data and data["appName"] != app_name:
            return None
        if "namespace" in data and data["namespace"] != _namespace(command):
            return None
        close = bool(data.get("closeConnection"))
        block = bool(data.get("blockConnection"))
        code = data.get("errorCode")
        error_code = int(code) if isinstance(code, int | float) and not isinstance(code, bool) else None
        wce = data.get("writeConcernError")
        write_concern_error = wce if isinstance(wce, dict) and canonical_name(name) in WRITE_CONCERN_COMMANDS else None
        if not (close or block or error_code is not None or write_concern_error is not None):
            return None
        labels = data.get("errorLabels")
        return FailAction(
            block_seconds=float(data.get("blockTimeMS", 0)) / 1000.0 if block else 0.0,
            close_connection=close,
            error_code=None if close else error_code,
            write_concern_error=None if close or error_code is not None else write_concern_error,
            labels=[str(label) for label in labels] if isinstance(labels, list) else None,
        )

    def _fires(self) -> bool:
        """Aplica o modo (chamado com a trava, só para comandos que o fail point atinge)."""
        if self.mode == "alwaysOn":
            return True
        if self.mode == "times":
            self.value -= 1
            if self.value <= 0:
                self.mode = "off"
            return True
        if self.mode == "skip":
            if self.value > 0:
                self.value -= 1
                return False
            return True
        if self.mode == "random":
            # Probabilidade de ativação de um fail point de teste, não segredo.
            return random.random() < self.value  # noqa: S311  # nosec B311
        return False


def _parse_mode(mode: Any) -> tuple[str, float]:
    if mode in ("off", "alwaysOn"):
        return str(mode), 0
    if isinstance(mode, dict) and len(mode) == 1:
        ((key, value),) = mode.items()
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise FailPointError(f"mode.{key} deve ser um número")
        if key == "times":
            if value < 0:
                raise FailPointError("mode.times deve ser >= 0")
            return ("times", int(value)) if value > 0 else ("off", 0)
        if key == "skip":
            if value < 0:
                raise FailPointError("mode.skip deve ser >= 0")
            return "skip", int(value)
        if key == "activationProbability":
            if not 0 <= value <= 1:
                raise FailPointError("mode.activationProbability deve estar entre 0 e 1")
            return "random", float(value)
    raise FailPointError(f"mode inválido: {mode!r} (use 'alwaysOn', 'off', {{times: N}} ou {{skip: N}})")


def _validate_data(data: dict[str, Any]) -> None:
    commands = data.get("failCommands")
    if not isinstance(commands, list) or not all(isinstance(item, str) for item in commands):
        raise FailPointError("data.failCommands deve ser uma lista de nomes de comandos")
    if data.get("blockConnection"):
        block = data.get("blockTimeMS")
        if isinstance(block, bool) or not isinstance(block, int | float) or block < 0:
            raise FailPointError("'blockTimeMS' (>= 0) é obrigatório quando 'blockConnection' é true")
    labels = data.get("errorLabels")
    if labels is not None and not isinstance(labels, list):
        raise FailPointError("data.errorLabels deve ser uma lista")


def _namespace(command: dict[str, Any]) -> str | None:
    target = next(iter(command.values()), None)
    database = command.get("$db")
    if isinstance(target, str) and isinstance(database, str):
        return f"{database}.{target}"
    return None
