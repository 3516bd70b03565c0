#!/bin/sh
# Entrypoint da imagem de produção: prepara as métricas multiprocesso, aplica
# migrações e índices do MongoDB e então executa o comando (uvicorn por padrão).
set -eu

if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    # Amostras de uma execução anterior não podem somar nesta.
    rm -rf "${PROMETHEUS_MULTIPROC_DIR}"
    mkdir -p "${PROMETHEUS_MULTIPROC_DIR}"
fi

if [ "${RUN_MIGRATIONS:-true}" = "true" ]; then
    # Sem o diretório de métricas: estes processos curtos não devem aparecer em /metrics.
    env -u PROMETHEUS_MULTIPROC_DIR python manage.py migrate --noinput
    env -u PROMETHEUS_MULTIPROC_DIR python manage.py ensure_indexes
fi

exec "$@"
