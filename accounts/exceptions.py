"""Recusas de credencial com código próprio (401 com ``error`` estável)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from trader_monitor.exceptions import CodedAuthenticationFailed


class SessionExpired(CodedAuthenticationFailed):
    default_detail = _("Sessão expirada: o tempo máximo desde o login acabou. Entre de novo.")
    default_code = "session_expired"


class TokenRevoked(CodedAuthenticationFailed):
    default_detail = _("Credencial revogada (senha trocada, conta desativada ou logout geral). Entre de novo.")
    default_code = "token_revoked"
