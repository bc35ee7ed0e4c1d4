# Ressenti: `make run` serves the app on http://127.0.0.1:5000, `make test` runs the suite.
# Both install what is missing first (system packages, virtualenv, npm assets), start the
# embedded PostGIS cluster under var/ (unless DATABASE_URL is set) and migrate.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The app reads var/secret_key when RESSENTI_SECRET_KEY is not set.
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000
APP_PORT ?= 5001

.PHONY: run test setup setup-test system-deps system-deps-test db lint bench stop clean

# Production shape on one machine: nginx (deploy/nginx-front.conf, under var/front) reads
# each request whole in front of gunicorn (deploy/gunicorn.conf.py, 127.0.0.1:APP_PORT),
# so slow phones cannot hold its workers; neither logs a client address. Ctrl-C stops both.
run: setup db
	@$(FLASK) users first-admin --url http://$(HOST):$(PORT)/connexion
	@$(FLASK) front start --listen $(HOST):$(PORT) --upstream 127.0.0.1:$(APP_PORT)
	@echo "Ressenti on http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	@trap '$(FLASK) front stop' EXIT; RESSENTI_PROXY_FIX=true HOST=127.0.0.1 PORT=$(APP_PORT) \
		$(BIN)/gunicorn -c deploy/gunicorn.conf.py 'app:create_app()'

test: setup-test db
	$(BIN)/pytest $(PYTEST_ARGS)

setup: system-deps $(VENV)/.installed static/vendor/.installed translations var/secret_key
setup-test: system-deps-test $(VENV)/.installed static/vendor/.installed translations var/secret_key

system-deps:
	@bash scripts/install-system-deps.sh

system-deps-test:
	@bash scripts/install-system-deps.sh --test

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

static/vendor/.installed: package.json package-lock.json scripts/copy-assets.sh
	npm ci --no-audit --no-fund --loglevel=error
	bash scripts/copy-assets.sh
	touch $@

MO_FILES := $(patsubst %.po,%.mo,$(wildcard app/translations/*/LC_MESSAGES/messages.po))
.PHONY: translations
translations: $(MO_FILES)
app/translations/%/LC_MESSAGES/messages.mo: app/translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d app/translations -l $*

var/secret_key:
	mkdir -p var
	umask 077 && $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(48))' > $@

# Start the embedded cluster (no-op with DATABASE_URL), migrate, load the Rennes demo,
# release what is due (closed workshops not yet released; open questionnaires).
db: setup
	$(FLASK) localdb start
	$(FLASK) db upgrade
	$(FLASK) demo load
	$(FLASK) release make

lint:
	$(BIN)/ruff check app geo tests bench

bench: setup db
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

stop:
	-$(FLASK) front stop
	$(FLASK) localdb stop

clean:
	-$(FLASK) localdb stop
	rm -rf $(VENV) node_modules static/vendor var
