# Two commands: `make run` sets everything up and serves the demo; `make test` sets
# everything up and runs the whole suite (ruff, mypy, pytest).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: setup run test lint typecheck pytest test-pg bench clean
.PHONY: test-js checkpoint-static

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "permits needs Python 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m permits.i18n.compile

run: setup
	$(BIN)/permits serve

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy permits verifier

pytest: setup
	$(BIN)/pytest -q $(PYTEST_ARGS)

# The checkpoint app's JavaScript verifier over every golden vector (node's test runner).
test-js: setup
	node --test verifier/web/test/*.test.js

# The checkpoint app as plain static files for any web server (docs/checkpoint/README.md).
checkpoint-static: setup
	$(BIN)/python -m permits.checkpoint.build verifier/web/dist --root-key $${ROOT_KEY:-keys/root-public-key.pem}

test: lint typecheck test-js pytest

# The suite again, against the PostgreSQL server (database `test`).
test-pg: setup
	PERMITS_TEST_DATABASE_URL=$${PERMITS_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} \
	PERMITS_REQUIRE_POSTGRES=1 $(BIN)/pytest -q $(PYTEST_ARGS)

bench: setup
	$(BIN)/python benchmarks/run_all.py

# Production serving: uvicorn workers (one a core, or WORKERS=N) on PostgreSQL, lists as
# static files (docs/scaling.md).
# Needs PERMITS_ENV=production, PERMITS_DATABASE_URL=postgresql+psycopg://...,
# PERMITS_KEY_PASSPHRASE and PERMITS_SECRET_KEY in the environment (or .env).
.PHONY: serve-prod fuzz load
WORKERS ?=
PORT ?= 8000
SECONDS_LOAD ?= 120
serve-prod: setup
	$(BIN)/permits serve --production $(if $(WORKERS),--workers $(WORKERS)) --port $(PORT)

# The long attack runs: coverage-guided fuzzing of the Python decoder (atheris), the
# JavaScript decoder (fast-check), and schemathesis over the API; each >= 100,000 inputs or
# 50x the quick run in `make test`.
fuzz: setup
	$(BIN)/python benchmarks/fuzz_decoder.py
	node benchmarks/fuzz_decoder_js.mjs
	$(BIN)/python benchmarks/fuzz_api.py

# The 2-minute mixed load on PostgreSQL (`make load SECONDS_LOAD=15` for a short run).
load: setup
	$(BIN)/python benchmarks/bench_load.py --seconds $(SECONDS_LOAD)

clean:
	rm -rf $(VENV) node_modules var .pytest_cache .mypy_cache .ruff_cache
