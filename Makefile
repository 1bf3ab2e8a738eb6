# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint types bench migrate demo clean install lock lock-upgrade client

# Installs come from the lock: exact versions, every file checked against its hash; the app
# itself is then installed on top without resolving anything.
$(STAMP): pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

# The service defaults to production (refuses demo secrets and data); these targets run the
# demo on this machine, so they say development explicitly unless the caller chose otherwise.
DEV := KCBX_ENVIRONMENT=$${KCBX_ENVIRONMENT:-development}

## make lock: re-resolve after editing pyproject.toml (new or changed dependencies), keeping
## every other pin; make lock-upgrade: move everything to the newest versions the bounds allow
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	--no-emit-find-links
lock: $(STAMP)
	$(BIN)/pip-compile $(LOCK_FLAGS) $(UPGRADE) --extra dev -o requirements-dev.lock pyproject.toml
	cp requirements-dev.lock requirements.lock
	$(BIN)/pip-compile $(LOCK_FLAGS) -o requirements.lock pyproject.toml

lock-upgrade:
	$(MAKE) lock UPGRADE=--upgrade

## make run: migrate the embedded database, seed the demo once, serve on http://127.0.0.1:8000
run: $(STAMP)
	$(DEV) $(BIN)/python -m app.cli.serve

## make test: lint, types, then the whole suite (SQLite; PostgreSQL when TEST_DATABASE_URL is set)
test: $(STAMP) check
	KCBX_ENVIRONMENT=test $(BIN)/python -m pytest

check: lint types

lint: $(STAMP)
	$(BIN)/ruff check app tests bench alembic clients
	$(BIN)/ruff format --check app tests bench alembic clients

types: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(DEV) $(BIN)/python -m bench

migrate: $(STAMP)
	$(DEV) $(BIN)/alembic upgrade head

## make client: the generated clients from the contract, into build/clients/: the Python one
## (openapi-python-client, pinned in the lock) and the TypeScript types (openapi-typescript with
## openapi-fetch, exact versions in clients/typescript/package-lock.json, installed by npm ci),
## the TypeScript flow typechecked with tsc --strict. .ci/client runs both flows on a live app.
TS := clients/typescript
client: $(STAMP)
	rm -rf build/clients && mkdir -p build/clients
	$(BIN)/python clients/dump_openapi.py build/clients/openapi.json
	cd build/clients && ../../$(BIN)/openapi-python-client generate --path openapi.json \
	  --meta none --output-path kcbx_client --config ../../clients/openapi-python-client.yaml
	cd $(TS) && npm ci --no-audit --no-fund --loglevel=error
	cd $(TS) && node generate.mjs ../../build/clients/openapi.json src/kcbx.d.ts
	cd $(TS) && npx tsc --strict -p .
	@echo "Python client: build/clients/kcbx_client; TypeScript: $(TS)/src/kcbx.d.ts, flow $(TS)/dist/flow.js"

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache $(TS)/node_modules $(TS)/dist
