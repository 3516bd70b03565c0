"""Configuração do Trader Monitor (12-factor, lida do ambiente com django-environ).

Em produção (``DJANGO_DEBUG`` desligado) não há segredos padrão: a aplicação
recusa subir sem ``DJANGO_SECRET_KEY`` e ``WEBHOOK_SECRET``.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from trader_monitor.durations import duration_parse
from trader_monitor.networks import DEFAULT_INTERNAL_NETWORKS, networks_parse

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG: bool = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY: str = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY é obrigatório com DJANGO_DEBUG desligado.")
    # Desenvolvimento sem chave: uma aleatória a cada início do processo. Uma constante no
    # código seria pública e permitiria forjar sessões e JWTs (inclusive do admin da demo);
    # o preço é que sessões e tokens não sobrevivem a um reinício — e processos diferentes
    # não aceitam os tokens uns dos outros (defina DJANGO_SECRET_KEY para isso).
    SECRET_KEY = secrets.token_urlsafe(50)

ALLOWED_HOSTS: list[str] = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "csp",
    "channels",
    "accounts",
    "events",
    "events.alerts",
    "insights",
]
# O app do daphne só serve ao `runserver` ASGI do desenvolvimento; fora dele (uvicorn) ele só
# carregaria o Twisted em cada worker (~40 MB de RSS, bench/RESULTS.md).
if DEBUG:
    INSTALLED_APPS.insert(0, "daphne")

MIDDLEWARE = [
    "trader_monitor.middleware.request_log_middleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "trader_monitor.urls"
ASGI_APPLICATION = "trader_monitor.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=0))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# Argon2 primeiro; os demais ficam para atualizar hashes antigos no próximo login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "pt-br"
LANGUAGES = [("pt-br", _("Português (Brasil)")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="America/Sao_Paulo")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Serviços externos -------------------------------------------------------
REDIS_URL: str = env.str("REDIS_URL", default="")

CACHES: dict[str, dict[str, Any]]
CHANNEL_LAYERS: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "capacity": 1000, "expiry": 30},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}}

# MongoDB. Produção é MongoDB: sem DEBUG, ``MONGO_URI`` é obrigatório. ``mongomock://``
# seleciona o armazenamento em memória (testes e demo: um banco por processo, perdido ao
# reiniciar) e, sem DEBUG, só com ``MONGO_ALLOW_IN_MEMORY=true`` (o check --deploy avisa).
IN_MEMORY_MONGO_URI = "mongomock://localhost/trader_monitor"
MONGO_URI: str = env.str("MONGO_URI", default=IN_MEMORY_MONGO_URI if DEBUG else "")
MONGO_ALLOW_IN_MEMORY: bool = env.bool("MONGO_ALLOW_IN_MEMORY", default=False)
if not MONGO_URI:
    raise ImproperlyConfigured(
        "MONGO_URI é obrigatório com DJANGO_DEBUG desligado (ex.: mongodb://mongo:27017/trader_monitor)."
    )
MONGO_IN_MEMORY: bool = MONGO_URI.startswith("mongomock://")
if MONGO_IN_MEMORY and not DEBUG and not MONGO_ALLOW_IN_MEMORY:
    raise ImproperlyConfigured(
        "MONGO_URI=mongomock:// (armazenamento em memória, perdido ao reiniciar) é recusado com "
        "DJANGO_DEBUG desligado; use um MongoDB ou, só para testes, MONGO_ALLOW_IN_MEMORY=true."
    )
MONGO_SERVER_SELECTION_TIMEOUT_MS: int = env.int("MONGO_SERVER_SELECTION_TIMEOUT_MS", default=1000)
MONGO_WRITE_RETRIES: int = env.int("MONGO_WRITE_RETRIES", default=3)
# Agregações: cada processo aplica seu lote a cada ROLLUP_FLUSH_SECONDS; lotes pendentes há
# mais de ROLLUP_RECOVERY_SECONDS (processo morto) são recuperados por qualquer processo.
ROLLUP_FLUSH_SECONDS: float = env.float("ROLLUP_FLUSH_SECONDS", default=1.0)
ROLLUP_RECOVERY_SECONDS: float = env.float("ROLLUP_RECOVERY_SECONDS", default=60.0)
# Threads que atendem o armazenamento para o código assíncrono (webhook, feed): o laço
# de eventos nunca espera o banco (events.store.run_store).
STORE_THREADS: int = env.int("STORE_THREADS", default=16)

# --- Webhook -----------------------------------------------------------------
WEBHOOK_SECRETS: list[str] = env.str("WEBHOOK_SECRET", default="").split()
if not WEBHOOK_SECRETS and not DEBUG:
    raise ImproperlyConfigured("WEBHOOK_SECRET é obrigatório com DJANGO_DEBUG desligado (formato whsec_…).")
WEBHOOK_MAX_BODY_BYTES: int = env.int("WEBHOOK_MAX_BODY_BYTES", default=64 * 1024)
WEBHOOK_RETRY_AFTER_SECONDS: int = env.int("WEBHOOK_RETRY_AFTER_SECONDS", default=5)
# Limites (formato django-ratelimit; vazio desliga). Entregas com assinatura válida contam
# por remetente (o segredo que as conferiu): alto, para uma plataforma com poucos IPs e
# muito volume. Tentativas inválidas ou sem assinatura contam por IP: baixo.
WEBHOOK_RATE_LIMIT: str = env.str("WEBHOOK_RATE_LIMIT", default="20000/m")
WEBHOOK_INVALID_RATE_LIMIT: str = env.str("WEBHOOK_INVALID_RATE_LIMIT", default="60/m")
QUARANTINE_MAX_DOCS: int = env.int("QUARANTINE_MAX_DOCS", default=10_000)
QUARANTINE_TTL_DAYS: int = env.int("QUARANTINE_TTL_DAYS", default=14)
QUARANTINE_BODY_BYTES: int = env.int("QUARANTINE_BODY_BYTES", default=4096)

# --- API ---------------------------------------------------------------------
SUMMARY_CACHE_SECONDS: int = env.int("SUMMARY_CACHE_SECONDS", default=30)
ALLOW_SIGNUP: bool = env.bool("ALLOW_SIGNUP", default=False)

REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # A do simplejwt mais a geração das credenciais (claim "ver"): tokens revogados caem na hora.
        "accounts.authentication.VersionedJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "trader_monitor.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SIMPLE_JWT: dict[str, Any] = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=10)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": "HS256",
    # Vazia conta como ausente: nunca assinar com uma chave vazia.
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default="") or SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
}

# Duração máxima de uma sessão JWT desde o login (claim auth_time, preservado na rotação do
# refresh): depois dela a renovação dá 401 session_expired. Segundos, "7d", "12h" ou ISO-8601.
try:
    JWT_SESSION_MAX_AGE: timedelta = duration_parse(env.str("JWT_SESSION_MAX_AGE", default="7d"))
except ValueError as _exc:
    raise ImproperlyConfigured(f"JWT_SESSION_MAX_AGE: {_exc}") from None

SPECTACULAR_SETTINGS: dict[str, Any] = {
    "TITLE": "Trader Monitor API",
    "DESCRIPTION": "Eventos de trading via webhook assinado, agregações, tempo real e insights.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Sem o validador on-line do Swagger: ele buscaria uma imagem em outra origem (a CSP
    # recusa) e mandaria a URL do esquema a terceiros.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

CORS_ALLOWED_ORIGINS: list[str] = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"

# --- Segurança HTTP ----------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
    # O health-check de balanceadores chega por HTTP puro dentro da rede interna.
    SECURE_REDIRECT_EXEMPT = [r"^api/health", r"^metrics$"]
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Content-Security-Policy (django-csp) para toda resposta do Django que não traga a sua: admin,
# Swagger UI (/api/docs/, servido da própria origem pelo sidecar, script de início em arquivo
# à parte), erros e JSON. Nada inline, nada de outra origem. O painel e o login mandam uma
# política própria, com o WebSocket (dashboard/security.py), que o middleware não sobrescreve.
CONTENT_SECURITY_POLICY: dict[str, Any] = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Observabilidade ---------------------------------------------------------
# Coletor de lixo do processo servidor (trader_monitor/gc_policy.py): "freeze-survivors"
# tira das coletas completas o que já sobreviveu a uma (pausas curtas no laço de eventos);
# "freeze" só congela o que existe ao subir; "default" deixa o CPython como vem.
GC_POLICY: str = env.str("GC_POLICY", default="freeze-survivors")
# Log de acesso: 1 = uma linha por requisição. N > 1 = só 1 em N respostas de sucesso
# (< 400) vira linha (com "sample": N); 4xx e 5xx sempre. As métricas contam todas.
ACCESS_LOG_SAMPLE: int = env.int("ACCESS_LOG_SAMPLE", default=1)
LOG_FORMAT: str = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
LOG_LEVEL: str = env.str("LOG_LEVEL", default="INFO")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "trader_monitor.logging.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
        },
        "text": {"format": "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # O log de acesso é nosso (uma linha por requisição); o do Django duplicaria.
        "django.request": {"level": "ERROR", "handlers": [], "propagate": True},
        "django.server": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        "uvicorn.access": {"level": "WARNING"},
    },
}

METRICS_TOKEN: str = env.str("METRICS_TOKEN", default="")
# Sem METRICS_TOKEN, /metrics só responde a estas redes (CIDR, separadas por vírgula).
# O endereço comparado é o REMOTE_ADDR entregue pelo servidor ASGI: o X-Forwarded-For só
# conta quando vem de um proxy listado em FORWARDED_ALLOW_IPS (uvicorn, imagem Docker).
METRICS_ALLOWED_NETWORKS: list[str] = env.list("METRICS_ALLOWED_NETWORKS", default=list(DEFAULT_INTERNAL_NETWORKS))
try:
    networks_parse(METRICS_ALLOWED_NETWORKS)
except ValueError as _exc:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS: {_exc}") from None
SENTRY_DSN: str = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:  # pragma: no cover - depende de serviço externo
    import sentry_sdk

    sentry_sdk.init(dsn=SENTRY_DSN, traces_sample_rate=env.float("SENTRY_TRACES_RATE", default=0.0))

# --- Autenticação, limites de taxa e OpenAPI da API (issue 3) ------------------
# Limites por rota (formato django-ratelimit, ex.: "10/m"). ``default`` vale para
# toda view DRF sem limite próprio (por usuário autenticado, senão por IP).
# ``auth-login`` e ``auth-register`` contam por IP+usuário; ``auth-login-ip``, por IP.
# Cadastro aberto (ALLOW_SIGNUP) também por IP (``auth-register-ip``) e no total de todos
# os IPs (``auth-register-global``); cadastros feitos pela equipe não contam nesses dois.
# ``auth-password`` conta tentativas de troca de senha por usuário.
# Sobrescreva pelo ambiente: API_RATE_LIMITS="auth-login=5/m,events-list=120/m"
# (uma rota com valor vazio ou "off" fica sem limite próprio).
API_RATE_LIMITS_ENABLED: bool = env.bool("API_RATE_LIMITS_ENABLED", default=True)
API_RATE_LIMITS: dict[str, str] = {
    "default": "600/m",
    "auth-login": "10/m",
    "auth-login-ip": "60/m",
    "auth-register": "10/h",
    "auth-register-ip": "5/h",
    "auth-register-global": "50/h",
    "auth-password": "10/h",
    # Cada exportação lê a janela inteira do armazenamento: bem menos pedidos que a listagem.
    "events-export": "10/m",
    **env.dict("API_RATE_LIMITS", default={}),
}


def _valid_rate(rate: str) -> bool:
    """``<n>/<período>`` como o django-ratelimit entende: 10/m, 600/5m, 100/h."""
    count, _slash, period = rate.partition("/")
    multiplier, unit = period[:-1], period[-1:]
    return (
        count.isdigit()
        and int(count) > 0
        and unit in {"s", "m", "h", "d"}
        and (multiplier == "" or (multiplier.isdigit() and int(multiplier) > 0))
    )


for _scope, _rate in API_RATE_LIMITS.items():
    if _rate.strip().lower() not in {"", "off", "none"} and not _valid_rate(_rate.strip().lower()):
        raise ImproperlyConfigured(f"API_RATE_LIMITS[{_scope!r}] inválido: {_rate!r} (use ex.: 10/m, 600/5m, 100/h).")
# Quando o cache (Redis) cai: login e cadastro falham fechados (503 + Retry-After).
API_RATE_LIMIT_UNAVAILABLE_RETRY_AFTER: int = env.int("API_RATE_LIMIT_UNAVAILABLE_RETRY_AFTER", default=5)
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = ["trader_monitor.ratelimit.DefaultApiThrottle"]

SPECTACULAR_SETTINGS["PREPROCESSING_HOOKS"] = ["trader_monitor.openapi.contract_paths"]
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "trader_monitor.openapi.pydantic_nullable",
]

# --- Alertas (events/alerts/) -------------------------------------------------
# Cada processo confere se as regras mudaram no banco no máximo a cada tantos segundos
# (mudanças feitas no próprio processo valem na hora): events/alerts/cache.py.
ALERT_RULES_RECHECK_SECONDS: float = env.float("ALERT_RULES_RECHECK_SECONDS", default=2.0)

# --- Tempo real: WebSocket /ws/events/ (events/feed/) -------------------------
# Prazo para a 1ª mensagem {"type": "auth", "token": …} quando não há sessão.
WS_AUTH_TIMEOUT_SECONDS: float = env.float("WS_AUTH_TIMEOUT_SECONDS", default=5.0)
# A cada intervalo o socket reconfere a credencial (logout, usuário desativado) e o
# hub do processo renova a inscrição no grupo (grupos expiram na camada de canais).
WS_RECHECK_SECONDS: float = env.float("WS_RECHECK_SECONDS", default=60.0)
# Caixa de saída de cada socket (eventos ao vivo ainda não enviados, events/feed/hub.py).
# Cheia = cliente lento: o socket fecha com 1013 (slow_consumer) e o cliente retoma
# pelo cursor. 1000 eventos ≈ 10 s de atraso a 100 eventos/s.
WS_MAILBOX_SIZE: int = env.int("WS_MAILBOX_SIZE", default=1000)
# Difusão em micro-lotes (events/feed/publish.py): um group_send por lote, fechado
# FEED_BATCH_SECONDS depois da 1ª mensagem ou com FEED_BATCH_MAX mensagens. 0 s ou 1
# mensagem = um group_send por evento.
FEED_BATCH_SECONDS: float = env.float("FEED_BATCH_SECONDS", default=0.002)
FEED_BATCH_MAX: int = env.int("FEED_BATCH_MAX", default=100)
# Retomada: no máximo tantos eventos reenviados; além disso, resync_required.
WS_REPLAY_LIMIT: int = env.int("WS_REPLAY_LIMIT", default=500)
# Mensagens do cliente por socket (sintaxe da biblioteca limits); excesso fecha com 1008.
WS_MESSAGE_RATE_LIMIT: str = env.str("WS_MESSAGE_RATE_LIMIT", default="60/minute")
# Retomadas lendo o armazenamento ao mesmo tempo, por processo (as demais esperam a vez):
# sempre sobram threads do pool (STORE_THREADS) para a ingestão.
WS_REPLAY_CONCURRENCY: int = env.int("WS_REPLAY_CONCURRENCY", default=4)
# Cursor mais atrasado que isso nem é consultado (a varredura seria cara): resync_required.
WS_RESUME_SCAN_LIMIT: int = env.int("WS_RESUME_SCAN_LIMIT", default=50_000)
if REDIS_URL:
    # Prefixo das chaves no Redis: permite vários ambientes (ou testes) no mesmo servidor.
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = env.str("CHANNEL_LAYER_PREFIX", default="asgi")

# --- Tempo real: Socket.IO /socket.io/ (events/feed/socketio.py) ----------------
# Transportes do Engine.IO. O long-polling guarda a sessão na memória do processo que a
# abriu, e cada requisição seguinte tem de cair nele (sessão fixa, "sticky"): com vários
# workers no mesmo socket (uvicorn --workers) ou réplicas atrás de um balanceador sem
# afinidade, ela cai em outro processo e recebe 400. Por isso, fora do DEBUG (a demo é um
# processo só), o padrão é só WebSocket — a conexão inteira fica num processo.
SOCKETIO_TRANSPORTS: list[str] = env.list(
    "SOCKETIO_TRANSPORTS", default=["polling", "websocket"] if DEBUG else ["websocket"]
)
if not SOCKETIO_TRANSPORTS or not set(SOCKETIO_TRANSPORTS) <= {"polling", "websocket"}:
    raise ImproperlyConfigured("SOCKETIO_TRANSPORTS aceita polling e/ou websocket (separados por vírgula).")

# --- Insights com OpenAI (issue 6) ---------------------------------------------
# Sem OPENAI_API_KEY o motor offline (determinístico) responde sozinho.
OPENAI_API_KEY: str = env.str("OPENAI_API_KEY", default="")
OPENAI_MODEL: str = env.str("OPENAI_MODEL", default="gpt-5.4-mini")
# Vazio = endpoint oficial (https://api.openai.com/v1); aceita servidores compatíveis.
OPENAI_BASE_URL: str = env.str("OPENAI_BASE_URL", default="")
# Por tentativa; o SDK faz no máximo INSIGHT_MAX_RETRIES (0 ou 1) nova tentativa.
INSIGHT_TIMEOUT_SECONDS: float = env.float("INSIGHT_TIMEOUT_SECONDS", default=15.0)
INSIGHT_MAX_RETRIES: int = min(1, max(0, env.int("INSIGHT_MAX_RETRIES", default=1)))
# Espera máxima antes da nova tentativa, mesmo que o servidor peça mais (Retry-After).
INSIGHT_RETRY_MAX_WAIT_SECONDS: float = env.float("INSIGHT_RETRY_MAX_WAIT_SECONDS", default=2.0)
INSIGHT_MAX_OUTPUT_TOKENS: int = env.int("INSIGHT_MAX_OUTPUT_TOKENS", default=1500)
# Esforço de raciocínio (modelos gpt-5*/o*); vazio não envia o parâmetro.
INSIGHT_REASONING_EFFORT: str = env.str("INSIGHT_REASONING_EFFORT", default="low")
INSIGHT_CACHE_SECONDS: int = env.int("INSIGHT_CACHE_SECONDS", default=300)
INSIGHT_DAILY_BUDGET_USD: str = env.str("INSIGHT_DAILY_BUDGET_USD", default="1.00")
# Limite por usuário de chamadas ao modelo (formato django-ratelimit; vazio desliga).
INSIGHT_RATE_LIMIT: str = env.str("INSIGHT_RATE_LIMIT", default="30/h")
INSIGHT_TOP_USERS: int = env.int("INSIGHT_TOP_USERS", default=5)
# offline: timeout/429/5xx/orçamento/limite → motor offline (rotulado); error: 503/429.
INSIGHT_FALLBACK: str = env.str("INSIGHT_FALLBACK", default="offline")
# reject: texto com número inventado é descartado (motor offline); flag: devolvido marcado.
INSIGHT_NUMBER_POLICY: str = env.str("INSIGHT_NUMBER_POLICY", default="reject")
INSIGHT_UNAVAILABLE_RETRY_AFTER: int = env.int("INSIGHT_UNAVAILABLE_RETRY_AFTER", default=30)
# USD por 1 milhão de tokens (preços públicos da OpenAI consultados em 2026; confira
# antes de usar em produção). Modelo fora da tabela usa "*" (caro, a favor do orçamento).
# Sobrescreva/acrescente pelo ambiente em JSON, ex.:
# INSIGHT_PRICES='{"meu-modelo": {"input": 0.5, "output": 1.5, "cachedInput": 0.05}}'
INSIGHT_PRICES: dict[str, dict[str, float]] = {
    "gpt-5.5": {"input": 5.00, "cachedInput": 0.50, "output": 30.00},
    "gpt-5.4": {"input": 2.50, "cachedInput": 0.25, "output": 15.00},
    "gpt-5.4-mini": {"input": 0.75, "cachedInput": 0.075, "output": 4.50},
    "gpt-5.4-nano": {"input": 0.20, "cachedInput": 0.02, "output": 1.25},
    "gpt-4.1-mini": {"input": 0.40, "cachedInput": 0.10, "output": 1.60},
    "gpt-4o-mini": {"input": 0.15, "cachedInput": 0.075, "output": 0.60},
    "*": {"input": 5.00, "cachedInput": 0.50, "output": 30.00},
    **env.json("INSIGHT_PRICES", default={}),
}
if not INSIGHT_DAILY_BUDGET_USD.replace(".", "", 1).isdigit():
    raise ImproperlyConfigured("INSIGHT_DAILY_BUDGET_USD deve ser um valor em USD, ex.: 1.00")
if INSIGHT_FALLBACK not in {"offline", "error"}:
    raise ImproperlyConfigured("INSIGHT_FALLBACK deve ser 'offline' ou 'error'.")
if INSIGHT_NUMBER_POLICY not in {"reject", "flag"}:
    raise ImproperlyConfigured("INSIGHT_NUMBER_POLICY deve ser 'reject' ou 'flag'.")
for _model_name, _price in INSIGHT_PRICES.items():
    if (
        not isinstance(_price, dict)
        or not {"input", "output"} <= _price.keys()
        or not all(isinstance(v, int | float) and v >= 0 for v in _price.values())
    ):
        raise ImproperlyConfigured(f"INSIGHT_PRICES[{_model_name!r}] precisa de input/output (USD por 1M tokens) >= 0.")

# --- Operação (demo, Docker, métricas) ---------------------------------------
# Com DEBUG (make demo, runserver) o WhiteNoise serve direto dos finders, sem
# collectstatic; em produção serve o STATIC_ROOT gerado na imagem.
if DEBUG:
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True

# --- Painel e admin (issue 5) ------------------------------------------------
# O admin padrão vira o TraderAdminSite (mesmo app "admin", mais as telas do
# MongoDB: eventos e webhooks rejeitados); o app "dashboard" serve a página.
INSTALLED_APPS = [
    "dashboard.apps.TraderAdminConfig" if app == "django.contrib.admin" else app for app in INSTALLED_APPS
]
INSTALLED_APPS.append("dashboard.apps.DashboardConfig")
# Linhas mantidas no feed ao vivo e intervalo de atualização dos KPIs/gráficos.
DASHBOARD_FEED_SIZE: int = env.int("DASHBOARD_FEED_SIZE", default=50)
DASHBOARD_REFRESH_SECONDS: int = env.int("DASHBOARD_REFRESH_SECONDS", default=30)

# --- Confiabilidade e segurança (issue 8) -------------------------------------
# Prazo total de cada operação no MongoDB (timeoutMS do pymongo: seleção de servidor,
# rede, replicação e a nova tentativa do driver). Com MONGO_WRITE_RETRIES tentativas e
# as esperas entre elas, uma entrega de webhook recebe 503 em menos de 5 s no pior caso
# (2 operações × (3 × 0,7 s + 0,25 s) ≈ 4,7 s; conferido em tests/reliability).
MONGO_TIMEOUT_MS: int = env.int("MONGO_TIMEOUT_MS", default=700)
# Rotação da DJANGO_SECRET_KEY sem derrubar sessões nem cursores de listagem assinados:
# a chave nova em DJANGO_SECRET_KEY e as antigas aqui (separadas por vírgula) até expirarem.
# (O JWT é assinado com JWT_SIGNING_KEY, que por padrão é a DJANGO_SECRET_KEY: trocá-la
# encerra os tokens emitidos — o access dura JWT_ACCESS_MINUTES, o refresh JWT_REFRESH_DAYS.)
SECRET_KEY_FALLBACKS: list[str] = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])

# --- Notificações de alertas (issue 17) ----------------------------------------
# Destinos privados, de loopback, link-local e afins são recusados fora do DEBUG, no
# cadastro e a cada envio (docs/SECURITY.md, "SSRF"); true libera (rede interna confiável).
NOTIFY_ALLOW_PRIVATE: bool = env.bool("NOTIFY_ALLOW_PRIVATE", default=False)
# Entregas seguidas que esgotam as tentativas (ou falham de vez) até o destino ser desativado.
NOTIFY_DISABLE_AFTER: int = env.int("NOTIFY_DISABLE_AFTER", default=5)
# Esperas (s) antes de cada nova tentativa; esgotadas, a entrega fica "failed". Com jitter de ±20%.
NOTIFY_RETRY_SCHEDULE: list[int] = [
    int(item) for item in env.list("NOTIFY_RETRY_SCHEDULE", default=["5", "30", "120", "600", "3600", "21600"])
]
# Prazos de cada POST: conexão e cada leitura/escrita; o total é limitado pela concessão.
NOTIFY_CONNECT_TIMEOUT_SECONDS: float = env.float("NOTIFY_CONNECT_TIMEOUT_SECONDS", default=3.0)
NOTIFY_TIMEOUT_SECONDS: float = env.float("NOTIFY_TIMEOUT_SECONDS", default=5.0)
# Concessão (lease) de uma entrega a um remetente: outro só a pega depois que ela vence.
# Maior que o pior caso de um envio (conexão + leituras), para nunca haver dois ao mesmo tempo.
NOTIFY_LEASE_SECONDS: int = env.int("NOTIFY_LEASE_SECONDS", default=60)
# Intervalo entre buscas quando não há entrega vencida.
NOTIFY_POLL_SECONDS: float = env.float("NOTIFY_POLL_SECONDS", default=1.0)
# Entregas terminadas (entregues ou falhas) ficam este tanto para consulta (índice TTL).
NOTIFY_OUTBOX_TTL_DAYS: int = env.int("NOTIFY_OUTBOX_TTL_DAYS", default=30)
if not NOTIFY_RETRY_SCHEDULE or min(NOTIFY_RETRY_SCHEDULE) <= 0:
    raise ImproperlyConfigured("NOTIFY_RETRY_SCHEDULE: esperas em segundos, > 0, separadas por vírgula.")
if NOTIFY_DISABLE_AFTER < 1:
    raise ImproperlyConfigured("NOTIFY_DISABLE_AFTER deve ser >= 1.")
if NOTIFY_LEASE_SECONDS <= NOTIFY_CONNECT_TIMEOUT_SECONDS + 2 * NOTIFY_TIMEOUT_SECONDS:
    raise ImproperlyConfigured("NOTIFY_LEASE_SECONDS deve passar do pior caso de um envio (conexão + 2 prazos).")
