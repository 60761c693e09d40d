# One target per routine action; CI calls `make test`.
# Needs only python3 (3.11 or 3.12) and make: uv is installed into .tools/.

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

.PHONY: demo test lint typecheck clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

## demo: install, then run the quarterly settlement on the bundled demo data.
demo: $(UV)
	$(UV) sync --frozen --no-dev --inexact
	.venv/bin/channelops demo

## test: install with the test tools, then run the whole test suite.
test: $(UV)
	$(UV) sync --frozen
	.venv/bin/python -m pytest

lint: $(UV)
	$(UV) sync --frozen
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck: $(UV)
	$(UV) sync --frozen
	.venv/bin/mypy

## clean: remove everything runs write (warehouse, outbox, reports).
clean:
	rm -rf var dbt_project/target dbt_project/logs
