"""Livro-caixa das chamadas ao modelo (banco relacional; visível no admin)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class InsightCall(models.Model):
    """Uma chamada ao modelo: tokens, custo, latência, quem pediu, janela e resultado."""

    class Outcome(models.TextChoices):
        OK = "ok", _("texto aceito")
        UNVERIFIED_NUMBERS = "unverified_numbers", _("aceito com números não verificados")
        REJECTED_NUMBERS = "rejected_numbers", _("rejeitado: números inventados")
        INVALID_OUTPUT = "invalid_output", _("saída inválida")
        TIMEOUT = "timeout", _("tempo esgotado")
        UPSTREAM_RATE_LIMITED = "upstream_rate_limited", _("limite do provedor (429)")
        UPSTREAM_ERROR = "upstream_error", _("erro do provedor (5xx)")
        CONNECTION_ERROR = "connection_error", _("falha de conexão")
        REQUEST_ERROR = "request_error", _("pedido recusado (4xx)")

    created_at = models.DateTimeField(_("quando"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("usuário"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="insight_calls",
    )
    range_label = models.CharField(_("janela pedida"), max_length=120)
    window_start = models.DateTimeField(_("início da janela"))
    window_end = models.DateTimeField(_("fim da janela"))
    model = models.CharField(_("modelo"), max_length=120)
    outcome = models.CharField(_("resultado"), max_length=32, choices=Outcome.choices, db_index=True)
    input_tokens = models.PositiveIntegerField(_("tokens de entrada"), default=0)
    cached_input_tokens = models.PositiveIntegerField(_("tokens de entrada em cache"), default=0)
    output_tokens = models.PositiveIntegerField(_("tokens de saída"), default=0)
    cost_usd = models.DecimalField(_("custo (USD)"), max_digits=14, decimal_places=8, default=Decimal(0))
    latency_ms = models.PositiveIntegerField(_("latência (ms)"), default=0)
    fingerprint = models.CharField(_("impressão digital dos dados"), max_length=64)
    request_id = models.CharField(_("id do pedido no provedor"), max_length=120, blank=True, default="")
    error = models.CharField(_("erro"), max_length=200, blank=True, default="")
    unverified_numbers = models.JSONField(_("números não verificados"), default=list, blank=True)

    class Meta:
        verbose_name = _("chamada ao modelo")
        verbose_name_plural = _("chamadas ao modelo")
        ordering = ("-created_at", "-id")
        # Chamadas pagas (OpenAI) só para a equipe ou quem recebe esta permissão no admin;
        # os demais recebem o motor offline. Cadastro aberto não pode gastar o orçamento.
        permissions = (("use_paid_model", _("Pode gerar insights com o modelo pago (OpenAI)")),)

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.model} {self.outcome} US$ {self.cost_usd}"
