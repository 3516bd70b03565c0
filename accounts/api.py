"""API de contas: cadastro, login/renovação/saída com JWT, troca de senha, logout geral e o usuário atual."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenBlacklistView, TokenObtainPairView, TokenRefreshView

from accounts.permissions import CanRegister, authenticated_user
from accounts.serializers import (
    LoginInputSerializer,
    PasswordChangeInputSerializer,
    RefreshInputSerializer,
    RegisterInputSerializer,
    TokenPairOutputSerializer,
    UserOutputSerializer,
)
from accounts.services import user_create, user_password_change, user_tokens_revoke
from accounts.throttles import PasswordChangeThrottle, RegisterGlobalThrottle, RegisterIpThrottle
from accounts.tokens import SessionTokenObtainPairSerializer, SessionTokenRefreshSerializer, token_pair_issue
from trader_monitor.openapi import error_responses
from trader_monitor.ratelimit import LoginIpThrottle, LoginThrottle, RegisterThrottle

_REFRESH_401 = (
    "Refresh ausente, inválido, expirado ou já revogado (logout/rotação): `not_authenticated`. "
    "Sessão além de `JWT_SESSION_MAX_AGE` desde o login: `session_expired`. Credenciais "
    "revogadas (senha trocada, conta desativada, logout geral): `token_revoked`."
)
_ACCESS_401 = (
    "Sem credencial ou com token inválido/expirado (`not_authenticated`); token de credenciais "
    "revogadas — senha trocada, conta desativada, logout geral (`token_revoked`)."
)


class RegisterApi(APIView):
    permission_classes = [CanRegister]  # noqa: RUF012
    throttle_classes = [RegisterThrottle, RegisterIpThrottle, RegisterGlobalThrottle]  # noqa: RUF012

    @extend_schema(
        operation_id="auth_register",
        summary="Cadastrar usuário",
        description=(
            "Cria um analista (não administrador). Só administradores podem cadastrar, "
            "a menos que `ALLOW_SIGNUP=true`. A senha passa pelos validadores do Django. "
            "Limites: por IP+usuário (`auth-register`); para o cadastro aberto, também por IP "
            "(`auth-register-ip`) e no total (`auth-register-global`) — excesso dá 429 com "
            "`Retry-After`; com o cache de limites fora do ar, 503."
        ),
        tags=["auth"],
        request=RegisterInputSerializer,
        responses={
            201: UserOutputSerializer,
            **error_responses(400, 401, 403, 429, 503, e403="Só administradores cadastram (sem `ALLOW_SIGNUP`)."),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = RegisterInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            user = user_create(username=data["username"], email=data["email"], password=data["password"])
        except DjangoValidationError as exc:
            raise ValidationError(_field_errors(exc)) from None
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


def _field_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {name: [str(m) for e in errors for m in e.messages] for name, errors in exc.error_dict.items()}
    # validate_password lança uma lista de mensagens, todas sobre a senha.
    return {"password": [str(message) for message in exc.messages]}


class LoginApi(TokenObtainPairView):
    serializer_class = SessionTokenObtainPairSerializer
    throttle_classes = [LoginThrottle, LoginIpThrottle]  # noqa: RUF012

    @extend_schema(
        operation_id="auth_login",
        summary="Login: obter tokens",
        description=(
            "Troca usuário e senha por um par JWT (`access` curto, `refresh` rotativo). "
            "A sessão começa aqui: renovações valem até `JWT_SESSION_MAX_AGE` depois do login. "
            "Limites: por IP+usuário (`auth-login`) e por IP (`auth-login-ip`); "
            "com o cache de limites fora do ar, responde 503 (falha fechada)."
        ),
        tags=["auth"],
        auth=[],
        request=LoginInputSerializer,
        responses={
            200: TokenPairOutputSerializer,
            **error_responses(
                400,
                401,
                429,
                503,
                e401="Usuário/senha incorretos ou conta inativa.",
                e503="Limite de tentativas indisponível (cache fora do ar); veja `Retry-After`.",
            ),
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().post(request, *args, **kwargs)


class RefreshApi(TokenRefreshView):
    serializer_class = SessionTokenRefreshSerializer

    @extend_schema(
        operation_id="auth_refresh",
        summary="Renovar tokens",
        description=(
            "Devolve um novo `access` e um novo `refresh`; o `refresh` enviado é revogado "
            "(rotação), e reutilizá-lo dá 401. A rotação não estende a sessão: passado "
            "`JWT_SESSION_MAX_AGE` desde o login, 401 `session_expired`; credenciais revogadas "
            "(troca de senha, desativação, logout geral), 401 `token_revoked`."
        ),
        tags=["auth"],
        auth=[],
        request=RefreshInputSerializer,
        responses={200: TokenPairOutputSerializer, **error_responses(400, 401, 429, e401=_REFRESH_401)},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            return super().post(request, *args, **kwargs)
        except ObjectDoesNotExist:
            # Usuário apagado depois de emitido o token (o simplejwt não trata e daria 500).
            raise AuthenticationFailed(_("Usuário do token não existe mais."), code="user_not_found") from None


class LogoutApi(TokenBlacklistView):
    @extend_schema(
        operation_id="auth_logout",
        summary="Logout: revogar o refresh",
        description=(
            "Revoga o `refresh` (lista negra). Tokens de acesso já emitidos valem até expirar "
            "(`JWT_ACCESS_MINUTES`, padrão 10 min)."
        ),
        tags=["auth"],
        auth=[],
        request=RefreshInputSerializer,
        responses={204: OpenApiResponse(description="Refresh revogado."), **error_responses(400, 401, 429)},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        super().post(request, *args, **kwargs)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeApi(APIView):
    throttle_classes = [PasswordChangeThrottle]  # noqa: RUF012

    @extend_schema(
        operation_id="auth_password",
        summary="Trocar a própria senha",
        description=(
            "Confere `old_password`, valida `new_password` com os validadores do Django e troca a "
            "senha. Todo token (access e refresh) e toda sessão emitidos antes para este usuário "
            "deixam de valer — inclusive o token usado nesta chamada. Por isso a resposta é 200 "
            "com um **par novo** (`access`, `refresh`; a sessão JWT recomeça agora), e não 204. "
            "Chamada pela sessão do painel, a sessão atual é mantida. Limite por usuário "
            "(`auth-password`)."
        ),
        tags=["auth"],
        request=PasswordChangeInputSerializer,
        responses={
            200: TokenPairOutputSerializer,
            **error_responses(
                400,
                401,
                429,
                503,
                e400="Senha atual não confere (`fields.old_password`) ou nova senha recusada (`fields.new_password`).",
                e401=_ACCESS_401,
            ),
        },
    )
    def post(self, request: Request) -> Response:
        user = authenticated_user(request)
        serializer = PasswordChangeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            user_password_change(user=user, old_password=data["old_password"], new_password=data["new_password"])
        except DjangoValidationError as exc:
            raise ValidationError(_field_errors(exc)) from None
        if isinstance(request.successful_authenticator, SessionAuthentication):
            # A sessão que pediu a troca continua; as outras caem com a versão nova.
            update_session_auth_hash(request, user)
        refresh = token_pair_issue(user)
        return Response(TokenPairOutputSerializer({"access": str(refresh.access_token), "refresh": str(refresh)}).data)


class LogoutAllApi(APIView):
    @extend_schema(
        operation_id="auth_logout_all",
        summary="Sair de todos os lugares",
        description=(
            "Revoga todo token (access e refresh) e toda sessão do usuário autenticado, inclusive "
            "os usados nesta chamada. Access tokens revogados são recusados na requisição "
            "seguinte (401 `token_revoked`). Sockets do feed abertos pela sessão do painel fecham "
            "com 4401 na próxima reconferência (`WS_RECHECK_SECONDS`); os abertos por JWT, quando "
            "o access expira."
        ),
        tags=["auth"],
        request=None,
        responses={204: OpenApiResponse(description="Tudo revogado."), **error_responses(401, 429, e401=_ACCESS_401)},
    )
    def post(self, request: Request) -> Response:
        user_tokens_revoke(user=authenticated_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    @extend_schema(
        operation_id="auth_me",
        summary="Usuário atual",
        tags=["auth"],
        responses={200: UserOutputSerializer, **error_responses(401, 429, e401=_ACCESS_401)},
    )
    def get(self, request: Request) -> Response:
        return Response(UserOutputSerializer(authenticated_user(request)).data)
