"""Peças do esquema OpenAPI (drf-spectacular) compartilhadas pelas APIs."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

_DESCRIPTIONS = {
    400: "Parâmetros ou corpo inválidos; `fields` nomeia cada um.",
    401: "Sem credencial ou com token inválido/expirado.",
    403: "Autenticado, mas sem permissão.",
    404: "Não encontrado.",
    409: "Conflito.",
    413: "Corpo grande demais.",
    429: "Limite de requisições excedido; veja o cabeçalho `Retry-After`.",
    503: "Serviço dependente indisponível; veja o cabeçalho `Retry-After`.",
}


class ErrorSerializer(serializers.Serializer[dict[str, Any]]):
    """Formato único de erro da API (``trader_monitor.errors``)."""

    error = serializers.CharField(help_text="Código estável do erro, ex.: `invalid_request`, `not_found`.")
    detail = serializers.CharField(help_text="Mensagem legível (pt-BR).")

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # "fields" colide com o atributo homônimo do Serializer; declarado aqui.
        fields = super().get_fields()
        fields["fields"] = serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            required=False,
            help_text="Só em 400: mensagens por parâmetro/campo.",
        )
        return fields


def error_responses(*statuses: int, **descriptions: str) -> dict[int, OpenApiResponse]:
    """Respostas de erro documentadas; ``descriptions`` troca o texto (ex.: ``e404="..."``)."""
    return {
        code: OpenApiResponse(ErrorSerializer, description=descriptions.get(f"e{code}", _DESCRIPTIONS[code]))
        for code in statuses
    }


def contract_paths(endpoints: list[tuple[str, str, str, Any]], **kwargs: Any) -> list[tuple[str, str, str, Any]]:
    """Gancho de pré-processamento: caminhos como no contrato, sem barra final.

    As rotas aceitam ``/api/events`` e ``/api/events/`` (regex ``/?$``); o gerador
    veria a forma com barra. Publicamos a forma sem barra, uma vez só.
    """
    seen: set[tuple[str, str]] = set()
    result = []
    for path, path_regex, method, callback in endpoints:
        public = path.rstrip("/") or "/"
        if (public, method) in seen:
            continue
        seen.add((public, method))
        result.append((public, path_regex, method, callback))
    return result


def _nullable(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable(value) for key, value in node.items()}
    options = node.get("anyOf")
    if isinstance(options, list) and {"type": "null"} in options:
        rest = [option for option in options if option != {"type": "null"}]
        node.pop("anyOf")
        if len(rest) == 1 and "$ref" not in rest[0]:
            node = {**rest[0], **node}
        else:
            node["anyOf" if len(rest) > 1 else "allOf"] = rest
        node["nullable"] = True
    return node


def pydantic_nullable(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Gancho de pós-processamento: ``anyOf [X, {type: null}]`` → ``X`` + ``nullable: true``.

    O pydantic gera JSON Schema (onde ``null`` é um tipo); o OpenAPI 3.0 só conhece
    ``nullable``. Sem isto o esquema do corpo do webhook não valida.
    """
    converted: dict[str, Any] = _nullable(result)
    return converted


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI em ``/api/docs/`` compatível com a CSP estrita do projeto.

    A variante "split" do drf-spectacular serve o script de início como arquivo à parte
    (``?script``) em vez de inline; o template ``api/swagger_ui.html`` tira o ``<style>``
    inline do original (vai para ``static/api/swagger.css``). Assim a página roda com
    ``script-src 'self'; style-src 'self'``.
    """

    template_name = "api/swagger_ui.html"

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response: Response = super().get(request, *args, **kwargs)  # type: ignore[no-untyped-call]
        # Como na view padrão do drf-spectacular: o login OAuth2 do Swagger UI abre um popup.
        response["Cross-Origin-Opener-Policy"] = "unsafe-none"
        return response
