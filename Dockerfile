# syntax=docker/dockerfile:1
# Imagem do Trader Monitor (veja docker-compose.yml). Alvos:
#   dev  — ferramentas de teste e lint, DEBUG ligado, runserver (daphne) com recarga;
#   prod — python:3.11-slim sem compiladores, usuário sem privilégios, estáticos
#          coletados, uvicorn com N workers e métricas Prometheus em modo multiprocesso.

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# --- builder: todas as wheels de execução (compila o que não vier pronto) ----------
FROM base AS builder
# A versão do build-essential acompanha a imagem base; fixá-la quebraria o build a
# cada atualização do Debian, e nada deste estágio vai para a imagem final.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt requirements-dev.txt ./
RUN pip wheel --no-cache-dir --wheel-dir /wheels -r requirements.txt

# --- dev: código montado por volume em /app ----------------------------------------
FROM builder AS dev
RUN pip install --no-cache-dir -r requirements-dev.txt
COPY . .
ENV DJANGO_DEBUG=true \
    PORT=8000
EXPOSE 8000
CMD ["python", "manage.py", "runserver", "0.0.0.0:8000"]

# --- prod ----------------------------------------------------------------------------
FROM base AS prod
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app
COPY requirements.txt ./
# As wheels vêm do builder por um bind mount: nem elas nem o compilador ficam na imagem.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels -r requirements.txt
# O código pertence ao root e é só leitura para o usuário da aplicação.
COPY . .
# collectstatic carrega as configurações de produção, que exigem segredos: usamos
# valores descartáveis só neste passo (não ficam no ambiente da imagem).
RUN DJANGO_DEBUG=false \
    DJANGO_SECRET_KEY=collectstatic-only-not-used-at-runtime \
    WEBHOOK_SECRET=whsec_Y29sbGVjdHN0YXRpYy1vbmx5LW5vdC11c2Vk \
    MONGO_URI=mongodb://collectstatic.invalid/build \
    python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /data \
    && chown app:app /data \
    && chmod 0755 /app/docker/entrypoint.sh
ENV DJANGO_DEBUG=false \
    PORT=8000 \
    WEB_CONCURRENCY=2 \
    DATABASE_URL=sqlite:////data/db.sqlite3 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus
VOLUME ["/data"]
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "/app/docker/healthcheck.py"]
ENTRYPOINT ["/app/docker/entrypoint.sh"]
# uvicorn foi escolhido por medição contra daphne e gunicorn+UvicornWorker (bench/servers.py).
# O log de acesso é o nosso (JSON, uma linha por requisição); o lifespan não é usado.
# Sem permessage-deflate: os quadros do feed são pequenos (~300 B) e comprimir cada um por
# socket custava ~15% do CPU do fan-out (bench/OTIMIZACOES.md, seção do hub do feed).
CMD ["sh", "-c", "exec uvicorn trader_monitor.asgi:application --host 0.0.0.0 --port ${PORT:-8000} --workers ${WEB_CONCURRENCY:-2} --lifespan off --no-access-log --proxy-headers --forwarded-allow-ips \"${FORWARDED_ALLOW_IPS:-127.0.0.1}\" --ws-max-size 65536 --ws-per-message-deflate false --timeout-graceful-shutdown 10"]
