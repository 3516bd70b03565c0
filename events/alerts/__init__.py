"""Alertas: regras avaliadas a cada evento, alertas no MongoDB e notificações assinadas.

* ``models.py``: regras (``AlertRule``) e destinos de notificação (``NotificationEndpoint``),
  no banco relacional, editáveis no admin e pela API;
* a avaliação, os alertas e a caixa de saída (outbox) ficam no MongoDB, pelo ``events.store``.
"""
