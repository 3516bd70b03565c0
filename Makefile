# Alvos do projeto. Todos criam o .venv se faltar.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed
# node_modules do teste do Socket.IO com o socket.io-client (npm ci, só se houver npm).
NODE_STAMP := node_modules/.package-lock.json
NPM := $(shell command -v npm 2>/dev/null)

.PHONY: install test lint demo bench format migrate clean env

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund

install: $(STAMP) $(if $(NPM),$(NODE_STAMP))

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	DJANGO_SETTINGS_MODULE=tests.settings $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/bandit -c pyproject.toml -r . -q
	$(BIN)/python .ci/pip_audit.py

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrate: $(STAMP)
	DJANGO_DEBUG=true $(BIN)/python manage.py migrate --noinput

# A demo é sempre embutida (mongomock + camadas em memória), mesmo com um .env do compose.
demo: $(STAMP)
	DJANGO_DEBUG=true MONGO_URI=mongomock://localhost/trader_monitor REDIS_URL= PORT=$(PORT) \
		$(BIN)/python manage.py demo --port $(PORT)

# .env para o docker compose, com segredos gerados (não sobrescreve um existente).
env:
	$(PYTHON) docker/make_env.py

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) node_modules staticfiles .mypy_cache .ruff_cache .pytest_cache
