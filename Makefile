# The two commands: `make run` starts the shop, `make test` runs the checks and tests.
# `make run` installs the runtime dependencies only; the test tools (pytest, sing-box, ruff, mypy...)
# come with the first `make test` or `make lint`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HASH := $(shell cat pyproject.toml | cksum | cut -d' ' -f1)
RUN_STAMP := $(VENV)/.installed-run-$(HASH)
TEST_STAMP := $(VENV)/.installed-test-$(HASH)

.PHONY: run test lint demo

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	rm -f $(VENV)/.installed-run-*
	touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(RUN_STAMP) $(TEST_STAMP)

run: $(RUN_STAMP)
	$(BIN)/vpnshop up

demo: $(RUN_STAMP)
	$(BIN)/vpnshop demo

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	TEST_DATABASE_URL="$${TEST_DATABASE_URL:-$$(sh tests/scratch_postgres.sh)}" $(BIN)/pytest -n 2 --dist loadgroup -rfEs --durations=15
