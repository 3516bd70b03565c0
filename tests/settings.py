"""Configuração dos testes: produção-like (DEBUG desligado), serviços embutidos."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
# Segredo de teste (base64 de 32 bytes); a rotação usa um segundo segredo.
os.environ.setdefault("WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
os.environ.setdefault("MONGO_URI", "mongomock://localhost/trader_monitor_test")
# Os testes rodam com DEBUG desligado sobre o armazenamento em memória: permitido de propósito.
os.environ.setdefault("MONGO_ALLOW_IN_MEMORY", "true")
os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("ROLLUP_FLUSH_SECONDS", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("WEBHOOK_RATE_LIMIT", "")
os.environ.setdefault("WEBHOOK_INVALID_RATE_LIMIT", "")
os.environ.setdefault("API_RATE_LIMITS_ENABLED", "false")
# O processo do pytest importa o asgi.py: a política do GC do servidor (congelar os
# sobreviventes) seguraria ciclos de lixo dos testes até o fim da suíte.
os.environ.setdefault("GC_POLICY", "default")
os.environ["REDIS_URL"] = os.environ.get("TEST_FORCE_REDIS_URL", "")

from trader_monitor.settings import *  # noqa: F403

# Hash rápido nos testes (Argon2 é lento de propósito); a ordem de produção é
# verificada em tests/accounts.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]  # noqa: F405
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
