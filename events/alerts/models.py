"""Regras de alerta e destinos de notificação (banco relacional; o estado fica no MongoDB)."""

from __future__ import annotations

import secrets
from base64 import b64encode

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def new_webhook_secret() -> str:
    """Segredo no formato do Standard Webhooks: ``whsec_`` + 32 bytes em base64."""
    return "whsec_" + b64encode(secrets.token_bytes(32)).decode("ascii")


class NotificationEndpoint(models.Model):
    """Destino HTTP que recebe ``alert.triggered`` assinado com o seu ``secret``."""

    url = models.URLField(_("URL"), max_length=2000)
    description = models.CharField(_("descrição"), max_length=200, blank=True)
    secret = models.CharField(_("segredo"), max_length=100, default=new_webhook_secret, editable=False)
    enabled = models.BooleanField(_("ativo"), default=True)
    # Falhas seguidas (entregas que esgotaram as tentativas); N seguidas desativam o destino.
    consecutive_failures = models.PositiveIntegerField(_("falhas seguidas"), default=0)
    disabled_at = models.DateTimeField(_("desativado em"), null=True, blank=True)
    disabled_reason = models.CharField(_("motivo da desativação"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True)

    class Meta:
        verbose_name = _("destino de notificação")
        verbose_name_plural = _("destinos de notificação")
        ordering = ("id",)

    def __str__(self) -> str:
        return self.description or self.url


class AlertRule(models.Model):
    """Uma regra avaliada a cada evento ingerido; os campos usados dependem de ``kind``."""

    class Kind(models.TextChoices):
        THRESHOLD = "threshold", _("limite")
        FREQUENCY = "frequency", _("frequência")
        ANOMALY = "anomaly", _("anomalia")
        SEQUENCE = "sequence", _("sequência")

    class Severity(models.TextChoices):
        INFO = "info", _("informativo")
        WARNING = "warning", _("atenção")
        CRITICAL = "critical", _("crítico")

    class Op(models.TextChoices):
        GT = ">", ">"
        GTE = ">=", ">="
        LT = "<", "<"
        LTE = "<=", "<="

    name = models.CharField(_("nome"), max_length=120)
    kind = models.CharField(_("tipo de regra"), max_length=16, choices=Kind.choices)
    severity = models.CharField(_("severidade"), max_length=16, choices=Severity.choices, default=Severity.WARNING)
    enabled = models.BooleanField(_("ativa"), default=True)
    # Sem novo disparo para o mesmo usuário dentro deste intervalo.
    cooldown_seconds = models.PositiveIntegerField(_("intervalo sem repetição (s)"), default=300)
    notify = models.ManyToManyField(NotificationEndpoint, verbose_name=_("notificar"), blank=True, related_name="rules")

    # threshold, frequency, anomaly
    event_type = models.CharField(_("tipo de evento"), max_length=64, blank=True)
    # threshold (opcional): só este usuário
    user_id = models.CharField(_("usuário"), max_length=128, blank=True)
    # threshold
    op = models.CharField(_("operador"), max_length=2, choices=Op.choices, blank=True)
    threshold = models.FloatField(_("limite"), null=True, blank=True)
    # frequency
    count = models.PositiveIntegerField(_("quantidade"), null=True, blank=True)
    # frequency, sequence
    window_seconds = models.PositiveIntegerField(_("janela (s)"), null=True, blank=True)
    # anomaly
    z_score = models.FloatField(_("desvios (z)"), null=True, blank=True)
    min_samples = models.PositiveIntegerField(_("amostras mínimas"), null=True, blank=True)
    # sequence
    first_type = models.CharField(_("primeiro tipo"), max_length=64, blank=True)
    second_type = models.CharField(_("segundo tipo"), max_length=64, blank=True)
    min_ratio = models.FloatField(_("razão mínima de valores"), null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("criada por"), null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("criada em"), auto_now_add=True)
    updated_at = models.DateTimeField(_("atualizada em"), auto_now=True)

    class Meta:
        verbose_name = _("regra de alerta")
        verbose_name_plural = _("regras de alerta")
        ordering = ("id",)

    def __str__(self) -> str:
        return self.name
