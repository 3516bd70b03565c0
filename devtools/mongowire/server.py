"""Servidor TCP do protocolo do MongoDB sobre o mongomock, numa thread com laço asyncio próprio.

Uso em testes síncronos ou assíncronos (o laço do servidor não é o do teste)::

    with MongoWireServer() as server:
        client = MongoClient(server.uri, tz_aware=True)

``stop()`` fecha as conexões mas preserva o banco: ``start()`` de novo sobe o servidor
na MESMA porta com os mesmos dados (simula uma queda do MongoDB). Fail points
(``configureFailPoint``, ``failpoints.py``) não sobrevivem a um ``start()``, como num
``mongod`` reiniciado.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import logging
import threading
from types import TracebackType
from typing import Any, Self

from bson import Int64

from devtools.mongowire.commands import (
    CODE_NAMES,
    HANDSHAKE_COMMANDS,
    CommandExecutor,
    RequestContext,
    ServerIdentity,
    error_reply,
)
from devtools.mongowire.failpoints import FailAction
from devtools.mongowire.protocol import (
    HEADER_SIZE,
    MAX_BSON_OBJECT_SIZE,
    MAX_MESSAGE_SIZE_BYTES,
    OP_COMPRESSED,
    OP_MSG,
    OP_QUERY,
    REPLY_FLAG_QUERY_FAILURE,
    Header,
    InvalidRequestError,
    ProtocolError,
    encode_document,
    encode_op_msg,
    encode_op_reply,
    parse_op_msg,
    parse_op_query,
)

logger = logging.getLogger("devtools.mongowire")

# Teto da espera do ``hello`` "aguardável" (o pymongo pede ``heartbeatFrequencyMS``, 10 s).
MAX_AWAIT_HELLO_S = 60.0
# Folga sobre 16 MiB para o envelope da resposta (como o servidor de verdade).
_MAX_REPLY_BYTES = MAX_BSON_OBJECT_SIZE + 16 * 1024


class CloseConnection(Exception):
    """O fail point mandou desligar: a conexão fecha sem resposta."""


class MongoWireServer:
    """Servidor MongoDB de mentira (mongomock) que fala o protocolo de rede de verdade.

    ``port=0`` escolhe uma porta livre (veja ``port``/``uri`` depois do ``start()``).
    Com ``replica_set``, anuncia-se primário de um conjunto de um membro só — o pymongo
    então usa sessões e escritas com nova tentativa (``retryWrites``) como em produção.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, replica_set: str | None = None) -> None:
        self.host = host
        self.replica_set = replica_set
        self._port = port
        self._executor = CommandExecutor()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        # Conexões abertas: tarefa do laço -> escritor (para fechá-las no ``stop()``).
        self._connections: dict[asyncio.Task[Any], asyncio.StreamWriter] = {}
        self._connection_ids = itertools.count(1)

    # ------------------------------------------------------------------ API pública

    @property
    def port(self) -> int:
        """Porta TCP (a escolhida pelo sistema, se ``port=0``, depois do ``start()``)."""
        return self._port

    @property
    def advertised_host(self) -> str:
        """Host anunciado no ``hello`` e na URI (``127.0.0.1`` se escuta em todas as interfaces)."""
        try:
            address = ipaddress.ip_address(self.host)
        except ValueError:
            return self.host
        if address.is_unspecified:
            return "127.0.0.1"
        return f"[{address}]" if address.version == 6 else str(address)

    @property
    def address(self) -> str:
        return f"{self.advertised_host}:{self.port}"

    @property
    def uri(self) -> str:
        """URI para o ``MongoClient``: ``replicaSet=`` no modo réplica, senão ``directConnection=true``."""
        return self.database_uri("")

    def database_uri(self, database: str) -> str:
        """URI com um banco padrão (``client.get_default_database()``)."""
        query = f"replicaSet={self.replica_set}" if self.replica_set else "directConnection=true"
        return f"mongodb://{self.address}/{database}?{query}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def executor(self) -> CommandExecutor:
        """Interpretador dos comandos (tem o ``mongomock.MongoClient`` em ``backend``).

        Acesso direto ao ``backend`` com o servidor rodando só segurando ``executor.lock``.
        """
        return self._executor

    def start(self, timeout: float = 10.0) -> Self:
        """Sobe o servidor numa thread e espera ele aceitar conexões."""
        if self.running:
            raise RuntimeError("o servidor já está rodando")
        self._ready.clear()
        self._startup_error = None
        self._executor.fail_command.reset()
        self._thread = threading.Thread(target=self._run, name="mongowire", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("o mongowire não subiu a tempo")
        error = self._startup_failure()
        if error is not None:
            self._thread.join(timeout)
            self._thread = None
            raise error
        logger.info("mongowire ouvindo em %s", self.uri)
        return self

    def _startup_failure(self) -> BaseException | None:
        """Erro ao subir (ex.: porta ocupada), registrado pela thread do servidor."""
        return self._startup_error

    def stop(self, timeout: float = 10.0) -> None:
        """Fecha o servidor e todas as conexões; os dados continuam no ``executor.backend``."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None:
            return
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # laço já encerrado
                loop.call_soon_threadsafe(stopping.set)
        thread.join(timeout)
        if thread.is_alive():
            logger.warning("a thread do mongowire não terminou em %.1f s", timeout)
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ laço do servidor

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:
            if self._ready.is_set():
                logger.exception("o mongowire parou com erro")
            else:
                self._startup_error = exc
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            self._loop = None
            self._ready.set()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._handle_connection, self.host, self._port, reuse_address=True)
        self._port = int(server.sockets[0].getsockname()[1])
        self._executor.identity = ServerIdentity(address=self.address, replica_set=self.replica_set)
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            server.close()
            # Fechar o socket faz cada conexão sair do laço de leitura por conta própria;
            # cancelar a tarefa direto faz o asyncio 3.11 registrar um erro espúrio.
            for writer in self._connections.values():
                writer.transport.abort()
            pending = set(self._connections)
            if pending:
                _, pending = await asyncio.wait(pending, timeout=2.0)
            for task in pending:
                task.cancel()
            await server.wait_closed()

    async def _handle_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections[task] = writer
        peer = writer.get_extra_info("peername")
        context = RequestContext(
            connection_id=next(self._connection_ids),
            peer=f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer),
        )
        self._executor.connections_current += 1
        self._executor.connections_total += 1
        try:
            while True:
                header = Header.parse(await reader.readexactly(HEADER_SIZE))
                if not HEADER_SIZE < header.length <= MAX_MESSAGE_SIZE_BYTES:
                    raise ProtocolError(f"tamanho de mensagem inválido: {header.length}")
                body = await reader.readexactly(header.length - HEADER_SIZE)
                reply = await self._dispatch(header, body, context)
                if reply is not None:
                    writer.write(reply)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # o cliente fechou a conexão (ou o servidor está parando)
        except CloseConnection:
            logger.info("conexão %d (%s) fechada pelo fail point", context.connection_id, context.peer)
        except ProtocolError as exc:
            logger.warning("conexão %d (%s) encerrada: %s", context.connection_id, context.peer, exc)
        except Exception:
            logger.exception("erro inesperado na conexão %d (%s)", context.connection_id, context.peer)
        finally:
            self._executor.connections_current -= 1
            if task is not None:
                self._connections.pop(task, None)
            writer.transport.abort()

    async def _dispatch(self, header: Header, body: bytes, context: RequestContext) -> bytes | None:
        if header.op_code == OP_MSG:
            return await self._dispatch_op_msg(header, body, context)
        if header.op_code == OP_QUERY:
            return await self._dispatch_op_query(header, body, context)
        if header.op_code == OP_COMPRESSED:
            raise ProtocolError("OP_COMPRESSED recebido, mas o mongowire não anuncia compressão")
        raise ProtocolError(f"opCode não suportado: {header.op_code}")

    async def _dispatch_op_msg(self, header: Header, body: bytes, context: RequestContext) -> bytes | None:
        try:
            request = parse_op_msg(body)
        except InvalidRequestError as exc:
            if exc.more_to_come:
                logger.warning("mensagem sem resposta (moreToCome) descartada: %s", exc)
                return None
            return encode_op_msg(header.request_id, self._encode(error_reply(2, str(exc))))
        command = request.command
        wait = self._hello_wait(command)
        if wait:
            await self._await_topology_change(wait)
        reply = await self._execute(command, context)
        if request.more_to_come:
            if not reply.get("ok"):
                logger.warning("escrita sem confirmação (w: 0) falhou: %s", reply.get("errmsg"))
            return None
        return encode_op_msg(header.request_id, self._encode(reply))

    async def _dispatch_op_query(self, header: Header, body: bytes, context: RequestContext) -> bytes:
        try:
            request = parse_op_query(body)
        except InvalidRequestError as exc:
            failure = {"$err": str(exc), **error_reply(2, str(exc))}
            return encode_op_reply(header.request_id, [self._encode(failure)], REPLY_FLAG_QUERY_FAILURE)
        if not request.is_command:
            message = f"OP_QUERY fora de $cmd não é suportado ({request.full_collection_name}); use OP_MSG"
            failure = {"$err": message, **error_reply(352, message)}
            return encode_op_reply(header.request_id, [self._encode(failure)], REPLY_FLAG_QUERY_FAILURE)
        command = request.command()
        name = next(iter(command))
        if name in HANDSHAKE_COMMANDS:
            reply = await self._execute(command, context)
        else:
            reply = error_reply(352, f"Unsupported OP_QUERY command: {name}. Use OP_MSG (MongoDB 3.6+).")
        return encode_op_reply(header.request_id, [self._encode(reply)])

    async def _execute(self, command: dict[str, Any], context: RequestContext) -> dict[str, Any]:
        """Executa o comando passando antes pelo fail point ``failCommand``.

        Como no servidor, o ``appName`` só vale depois do aperto de mão que o traz: o
        primeiro ``hello`` de uma conexão nunca casa com um filtro por ``appName``.
        """
        action = self._executor.fail_command.evaluate(command, context.app_name)
        if action is None:
            return self._executor.execute(command, context)
        return await self._apply_fail_action(action, command, context)

    async def _apply_fail_action(
        self, action: FailAction, command: dict[str, Any], context: RequestContext
    ) -> dict[str, Any]:
        if action.block_seconds > 0:
            await self._block(action.block_seconds)
        if action.close_connection:
            raise CloseConnection
        if action.error_code is not None:
            identity = self._executor.identity
            topology_version = (
                {"processId": identity.process_id, "counter": Int64(0)} if identity.replica_set is not None else None
            )
            return action.error_reply(command, CODE_NAMES, topology_version)
        reply = self._executor.execute(command, context)
        action.attach_write_concern_error(command, reply)
        return reply

    async def _block(self, seconds: float) -> None:
        """Segura só esta conexão (as outras seguem atendidas); a parada do servidor interrompe."""
        stopping = self._stopping
        if stopping is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), seconds)
        if stopping.is_set():
            raise ConnectionAbortedError("servidor parando")

    def _encode(self, reply: dict[str, Any]) -> bytes:
        """Codifica a resposta; se não der (tipo estranho, grande demais), devolve um erro."""
        try:
            payload = encode_document(reply)
        except Exception as exc:
            logger.error("falha ao codificar a resposta", exc_info=exc)
            return encode_document(error_reply(1, f"falha ao codificar a resposta: {type(exc).__name__}: {exc}"))
        if len(payload) > _MAX_REPLY_BYTES:
            return encode_document(error_reply(10334, f"resposta de {len(payload)} bytes excede o limite do BSON"))
        return payload

    def _hello_wait(self, command: dict[str, Any]) -> float:
        """Segundos a esperar num ``hello`` aguardável (``topologyVersion`` + ``maxAwaitTimeMS``).

        A topologia daqui nunca muda: se o cliente já conhece a versão atual, a resposta
        só sai ao fim de ``maxAwaitTimeMS`` (ou quando o servidor para) — assim o monitor
        do pymongo não gira em falso a 100% de CPU. Versão diferente: responde na hora.
        """
        if not command or next(iter(command)) not in HANDSHAKE_COMMANDS:
            return 0.0
        version = command.get("topologyVersion")
        max_await_ms = command.get("maxAwaitTimeMS")
        if not isinstance(version, dict) or not isinstance(max_await_ms, int | float):
            return 0.0
        identity = self._executor.identity
        if version.get("processId") != identity.process_id or version.get("counter") != 0:
            return 0.0
        return max(0.0, min(float(max_await_ms) / 1000.0, MAX_AWAIT_HELLO_S))

    async def _await_topology_change(self, seconds: float) -> None:
        stopping = self._stopping
        if stopping is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), seconds)
        if stopping.is_set():
            raise ConnectionAbortedError("servidor parando")
