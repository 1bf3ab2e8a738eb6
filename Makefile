# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint types bench migrate demo clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## make run: migrate the embedded database, seed the demo once, serve on http://127.0.0.1:8000
run: $(STAMP)
	$(BIN)/python -m app.cli.serve

## make test: lint, types, then the whole suite (SQLite; PostgreSQL when TEST_DATABASE_URL is set)
test: $(STAMP) check
	$(BIN)/python -m pytest

check: lint types

lint: $(STAMP)
	$(BIN)/ruff check app tests bench alembic clients
	$(BIN)/ruff format --check app tests bench alembic clients

types: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench

migrate: $(STAMP)
	$(BIN)/alembic upgrade head

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
