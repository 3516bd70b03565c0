"""Serializers de entrada (parâmetros de consulta) e saída da API de eventos.

Toda entrada chega aqui como texto e sai validada e tipada (strings, inteiros,
datas com fuso): nada do cliente chega ao armazenamento sem passar por estes campos,
e parâmetros desconhecidos (``type[$ne]``) ou repetidos são recusados com 400.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from bson import ObjectId
from django.core import signing
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from events.domain import EventFilter, KeysetPosition, SortField, looks_like_operator
from events.export import EXPORT_FORMATS
from events.windows import RangeError, isoformat, parse_range, to_millisecond

SortSpec = Literal["timestamp", "-timestamp", "value", "-value"]
SORTS: dict[str, tuple[SortField, bool]] = {
    "-timestamp": ("timestamp", True),
    "timestamp": ("timestamp", False),
    "-value": ("value", True),
    "value": ("value", False),
}
MAX_LIMIT = 500
DEFAULT_LIMIT = 50
MAX_PAGE = 1_000_000
MAX_TYPES = 20
MAX_TYPE_LENGTH = 64
MAX_USER_ID_LENGTH = 128
MAX_TOP = 100
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
CURSOR_SALT = "events.list.cursor"
CURSOR_VERSION = 1
MAX_CURSOR_LENGTH = 2048


# --- campos --------------------------------------------------------------------------


def _plain_text(value: str) -> bool:
    """Sem espaços nas pontas, sem caracteres de controle e sem cara de operador do Mongo."""
    return (
        value == value.strip()
        and not any(ord(ch) < 32 or ord(ch) == 127 for ch in value)
        and not looks_like_operator(value)
    )


class AwareDateTimeField(serializers.DateTimeField):
    """ISO-8601 com fuso obrigatório (``Z`` ou ``±hh:mm``), normalizado para UTC.

    Os instantes guardados têm precisão de milissegundo; o limite é arredondado
    para cima até o milissegundo, o que mantém exata a semântica ``from`` inclusivo
    e ``to`` exclusivo também no MongoDB (que truncaria os microssegundos).
    """

    default_error_messages = {  # noqa: RUF012
        "invalid": _("Use ISO-8601 com fuso, ex.: 2026-11-29T12:00:00Z."),
        "naive": _("Inclua o fuso horário, ex.: 2026-11-29T12:00:00Z ou -03:00."),
        "out_of_range": _("Fora do intervalo aceito (1970 a 9999)."),
    }

    def to_internal_value(self, value: Any) -> datetime:
        if not isinstance(value, str) or len(value) > 40:
            self.fail("invalid")
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            self.fail("invalid")
        if moment.tzinfo is None or moment.utcoffset() is None:
            self.fail("naive")
        try:
            moment = moment.astimezone(UTC)
        except OverflowError:
            self.fail("out_of_range")
        if moment.year < 1970 or moment.year > 9998:
            self.fail("out_of_range")
        return to_millisecond(moment)

    def to_representation(self, value: datetime) -> str:
        """Na resposta, a forma de toda a API: UTC, milissegundos e ``Z`` (o DRF trata o ``None``)."""
        return isoformat(value)


class TypesField(serializers.CharField):
    """Um tipo ou vários separados por vírgula (``purchase,deposit``), como texto exato."""

    default_error_messages = {  # noqa: RUF012
        "empty_item": _("Tipo vazio na lista."),
        "bad_item": _(
            "Cada tipo tem até 64 caracteres, sem espaços nas pontas, caracteres de controle "
            "nem início em $, chave ou colchete (parecem operadores do MongoDB)."
        ),
        "too_many": _("No máximo 20 tipos."),
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(trim_whitespace=False, **kwargs)

    def to_internal_value(self, data: Any) -> tuple[str, ...]:  # type: ignore[override]
        text = super().to_internal_value(data)
        items = text.split(",")
        if len(items) > MAX_TYPES:
            self.fail("too_many")
        for item in items:
            if not item:
                self.fail("empty_item")
            if len(item) > MAX_TYPE_LENGTH or not _plain_text(item):
                self.fail("bad_item")
        return tuple(dict.fromkeys(items))


class PlainTextField(serializers.CharField):
    """Texto exato (sem aparar espaços), sem caracteres de controle."""

    default_error_messages = {  # noqa: RUF012
        "bad_text": _(
            "Sem espaços nas pontas, caracteres de controle nem início em $, chave ou colchete "
            "(parecem operadores do MongoDB)."
        ),
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(trim_whitespace=False, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        if not _plain_text(text):
            self.fail("bad_text")
        return text


# --- cursor (paginação por chave) ---------------------------------------------------


@dataclass(frozen=True)
class ListCursor:
    """Posição + ordenação + filtros de uma listagem: tudo que a próxima página precisa."""

    sort: str
    event_filter: EventFilter
    position: KeysetPosition


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def _from_micros(value: Any) -> datetime:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("instante inválido no cursor")
    return _EPOCH + value * _MICROSECOND


def _optional_moment(value: Any) -> datetime | None:
    return None if value is None else _from_micros(value)


def encode_cursor(cursor: ListCursor) -> str:
    """Cursor opaco e assinado (``django.core.signing``): adulterá-lo invalida a assinatura."""
    field, _descending = SORTS[cursor.sort]
    key = cursor.position.value
    flt = cursor.event_filter
    payload = {
        "v": CURSOR_VERSION,
        "s": cursor.sort,
        "k": _micros(key) if field == "timestamp" else key,
        "i": str(cursor.position.event_id),
        "t": list(flt.types),
        "u": flt.user_id,
        "a": None if flt.start is None else _micros(flt.start),
        "b": None if flt.end is None else _micros(flt.end),
    }
    return signing.dumps(payload, salt=CURSOR_SALT, compress=True)


def decode_cursor(token: str) -> ListCursor:
    """Inverso de ``encode_cursor``; ``ValueError`` se o cursor for inválido ou adulterado."""
    try:
        payload = signing.loads(token, salt=CURSOR_SALT)
    except signing.BadSignature:
        raise ValueError("assinatura inválida") from None
    try:
        if not isinstance(payload, Mapping) or payload["v"] != CURSOR_VERSION or payload["s"] not in SORTS:
            raise ValueError("formato desconhecido")
        field, _descending = SORTS[payload["s"]]
        raw_key = payload["k"]
        if field == "timestamp":
            key: Any = _from_micros(raw_key)
        elif isinstance(raw_key, int | float) and not isinstance(raw_key, bool) and math.isfinite(raw_key):
            key = raw_key
        else:
            raise ValueError("valor de ordenação inválido")
        types = payload["t"]
        user_id = payload["u"]
        if not isinstance(types, list) or not all(isinstance(item, str) for item in types):
            raise ValueError("tipos inválidos")
        if user_id is not None and not isinstance(user_id, str):
            raise ValueError("usuário inválido")
        event_filter = EventFilter(
            types=tuple(types),
            user_id=user_id,
            start=_optional_moment(payload["a"]),
            end=_optional_moment(payload["b"]),
        )
        if not isinstance(payload["i"], str) or not ObjectId.is_valid(payload["i"]):
            raise ValueError("id inválido")
        return ListCursor(payload["s"], event_filter, KeysetPosition(key, ObjectId(payload["i"])))
    except (KeyError, TypeError, OverflowError) as exc:
        raise ValueError(str(exc)) from None


class CursorField(serializers.CharField):
    """Cursor assinado da listagem; ``decode`` o abre (outra listagem troca só ele)."""

    default_error_messages = {  # noqa: RUF012
        "bad_cursor": _("Cursor inválido ou adulterado; recomece a listagem sem cursor."),
    }

    def decode(self, text: str) -> Any:
        """Abre o cursor; ``ValueError`` se inválido ou adulterado."""
        return decode_cursor(text)

    def to_internal_value(self, data: Any) -> Any:
        text = super().to_internal_value(data)
        if len(text) > MAX_CURSOR_LENGTH:
            self.fail("bad_cursor")
        try:
            return self.decode(text)
        except ValueError:
            self.fail("bad_cursor")


# --- entrada -------------------------------------------------------------------------


class StrictQuerySerializer(serializers.Serializer[dict[str, Any]]):
    """Base dos parâmetros de consulta: desconhecidos ou repetidos → 400 nomeando-os."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        getlist = getattr(data, "getlist", None)
        for name in data:
            if name not in self.fields:
                errors[name] = [str(_("Parâmetro desconhecido."))]
            elif getlist is not None and len(getlist(name)) > 1:
                errors[name] = [str(_("Informe este parâmetro uma só vez."))]
        if errors:
            raise serializers.ValidationError(errors)
        # Um dict simples (não QueryDict): o DRF trataria ``type=`` como ausente; aqui é erro.
        plain = {name: data[name] for name in data}
        validated: dict[str, Any] = super().to_internal_value(plain)
        return validated


def _from_to_fields() -> dict[str, serializers.Field[Any, Any, Any, Any]]:
    # "from" é palavra reservada em Python: os dois campos entram por get_fields().
    return {
        "from": AwareDateTimeField(required=False, help_text="Início (inclusivo), ISO-8601 com fuso."),
        "to": AwareDateTimeField(required=False, help_text="Fim (exclusivo), ISO-8601 com fuso."),
    }


class RangeQuerySerializer(StrictQuerySerializer):
    """``range`` (ex.: 15m, 24h, 7d, 30d) ou ``from``/``to``."""

    range = serializers.CharField(
        required=False, max_length=8, help_text="Janela terminando agora: `15m`, `24h`, `7d`, `30d`… (até 366d)."
    )

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        return {**super().get_fields(), **_from_to_fields()}

    def validate_range(self, value: str) -> str:
        try:
            parse_range(value)
        except RangeError as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("from"), attrs.get("to")
        if attrs.get("range") and (start or end):
            raise serializers.ValidationError({"range": [_("Use range OU from/to, não ambos.")]})
        if start and end and start >= end:
            raise serializers.ValidationError({"from": [_("from deve ser anterior a to.")]})
        return attrs


class FilteredRangeQuerySerializer(RangeQuerySerializer):
    """Janela mais os filtros da listagem: os mesmos eventos em listagem, resumo, série e exportação."""

    type = TypesField(required=False, help_text="Um tipo ou vários separados por vírgula.")
    userId = PlainTextField(required=False, max_length=MAX_USER_ID_LENGTH, help_text="Só eventos deste usuário.")


class EventListInputSerializer(FilteredRangeQuerySerializer):
    page = serializers.IntegerField(min_value=1, max_value=MAX_PAGE, default=1, help_text="Página (modo por página).")
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT, help_text="Itens por página (máx. 500)."
    )
    sort = serializers.ChoiceField(choices=list(SORTS), default="-timestamp", help_text="Ordenação; desempate por id.")
    cursor = CursorField(
        required=False,
        help_text=(
            "Modo por chave: o `nextCursor` da página anterior. Carrega ordenação e filtros; "
            "só `limit` pode acompanhá-lo."
        ),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if "cursor" in attrs:
            extra = sorted(name for name in self.initial_data if name not in {"cursor", "limit"})
            if extra:
                message = _("O cursor já carrega ordenação e filtros; envie só cursor e limit.")
                raise serializers.ValidationError({name: [message] for name in extra})
        return attrs


class SummaryInputSerializer(FilteredRangeQuerySerializer):
    top = serializers.IntegerField(
        min_value=1, max_value=MAX_TOP, default=5, help_text="Quantos usuários nos rankings (máx. 100)."
    )
    compare = serializers.ChoiceField(
        choices=["previous"],
        required=False,
        help_text=(
            "`previous`: inclui `previous` (totais e por tipo do período anterior — a janela de mesma "
            "duração que termina onde esta começa), a base do Δ."
        ),
    )


class TimeseriesInputSerializer(FilteredRangeQuerySerializer):
    pass


class ExportInputSerializer(FilteredRangeQuerySerializer):
    """Os filtros da listagem (sem ``range``/``from``/``to``: todo o histórico) e o formato."""

    format = serializers.ChoiceField(
        choices=list(EXPORT_FORMATS), default="csv", help_text="`csv` (RFC 4180, com cabeçalho) ou `ndjson`."
    )


# --- saída ---------------------------------------------------------------------------


class EventOutputSerializer(serializers.Serializer[dict[str, Any]]):
    id = serializers.CharField(help_text="ObjectId (24 hex).")
    userId = serializers.CharField()
    type = serializers.CharField()
    value = serializers.FloatField()
    timestamp = serializers.DateTimeField()
    metadata = serializers.JSONField(allow_null=True)
    receivedAt = serializers.DateTimeField()


class ListWindowOutputSerializer(serializers.Serializer[dict[str, Any]]):
    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        return {
            "from": serializers.DateTimeField(allow_null=True, help_text="Início (inclusivo)."),
            "to": serializers.DateTimeField(allow_null=True, help_text="Fim (exclusivo)."),
        }


# A ação ``list`` do ViewSet devolve um objeto (página + links), não uma lista: o
# ``many=False`` diz isso ao drf-spectacular.
@extend_schema_serializer(many=False)
class EventListOutputSerializer(serializers.Serializer[dict[str, Any]]):
    results = EventOutputSerializer(many=True)
    page = serializers.IntegerField(allow_null=True, help_text="Nulo no modo por cursor.")
    limit = serializers.IntegerField()
    total = serializers.IntegerField(
        allow_null=True, help_text="Total de eventos que casam com os filtros; nulo no modo por cursor (contar custa)."
    )
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True, help_text="Nulo no modo por cursor (só avança).")
    nextCursor = serializers.CharField(
        allow_null=True, help_text="Cursor da página seguinte (modo por chave); nulo na última página."
    )
    window = ListWindowOutputSerializer(
        allow_null=True,
        help_text=(
            "A janela exata que a listagem cobre (um `range` resolvido no instante da requisição); "
            "mande estes `from`/`to` ao resumo e à série para números da mesma janela. Nula sem janela."
        ),
    )


class WindowOutputSerializer(serializers.Serializer[dict[str, Any]]):
    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        return {
            "from": serializers.DateTimeField(help_text="Início (inclusivo)."),
            "to": serializers.DateTimeField(help_text="Fim (exclusivo)."),
            **super().get_fields(),
        }


class FiltersOutputSerializer(serializers.Serializer[dict[str, Any]]):
    types = serializers.ListField(child=serializers.CharField(), help_text="Tipos filtrados (vazio: todos).")
    userId = serializers.CharField(allow_null=True, help_text="Usuário filtrado (nulo: todos).")


class TotalsOutputSerializer(serializers.Serializer[dict[str, Any]]):
    count = serializers.IntegerField(help_text="Eventos na janela: o `total` da listagem com os mesmos filtros.")
    sum = serializers.FloatField()
    avgTicket = serializers.FloatField(allow_null=True, help_text="Valor médio de todos os eventos.")
    purchaseAvgTicket = serializers.FloatField(allow_null=True, help_text="Valor médio dos eventos `purchase`.")
    activeUsers = serializers.IntegerField(help_text="Usuários distintos com eventos na janela.")


class TypeRowOutputSerializer(serializers.Serializer[dict[str, Any]]):
    type = serializers.CharField()
    count = serializers.IntegerField()
    sum = serializers.FloatField()
    avg = serializers.FloatField(allow_null=True)


class UserRowOutputSerializer(serializers.Serializer[dict[str, Any]]):
    userId = serializers.CharField()
    count = serializers.IntegerField()
    sum = serializers.FloatField()
    avg = serializers.FloatField(allow_null=True)


class SummaryAggregatesOutputSerializer(serializers.Serializer[dict[str, Any]]):
    """Agregações exatas de uma janela (``selectors.summary_compute``); reusado pelos insights."""

    window = WindowOutputSerializer(help_text="A janela coberta, exatamente a pedida.")
    filters = FiltersOutputSerializer()
    totals = TotalsOutputSerializer()
    byType = TypeRowOutputSerializer(many=True)
    topUsersByValue = UserRowOutputSerializer(many=True)
    topUsersByCount = UserRowOutputSerializer(many=True)


class PreviousPeriodOutputSerializer(serializers.Serializer[dict[str, Any]]):
    """O período anterior (``Window.previous``) com os mesmos filtros: a base de comparação."""

    window = WindowOutputSerializer(
        help_text="`[from − (to − from), from)`: mesma duração, terminando onde a atual começa."
    )
    totals = TotalsOutputSerializer()
    byType = TypeRowOutputSerializer(many=True)


class SummaryOutputSerializer(SummaryAggregatesOutputSerializer):
    cached = serializers.BooleanField(help_text="Se veio do cache (`SUMMARY_CACHE_SECONDS`).")
    computedAt = serializers.DateTimeField(help_text="Quando o resumo foi calculado.")
    previous = PreviousPeriodOutputSerializer(required=False, help_text="Só com `compare=previous`.")


class TimeseriesPointOutputSerializer(WindowOutputSerializer):
    t = serializers.DateTimeField(help_text="Início do intervalo (alinhado); `from`/`to` dizem o que o ponto cobre.")
    count = serializers.IntegerField()
    sum = serializers.FloatField()
    byType = serializers.DictField(child=serializers.IntegerField(), help_text="Contagem por tipo.")


class TimeseriesOutputSerializer(serializers.Serializer[dict[str, Any]]):
    window = WindowOutputSerializer()
    interval = serializers.IntegerField(help_text="Largura de cada ponto, em segundos.")
    points = TimeseriesPointOutputSerializer(many=True)
