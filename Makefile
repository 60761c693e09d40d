# One target per routine action; CI calls `make test`.
# Needs only python3 (3.11 or 3.12) and make: uv is installed into .tools/.

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

.PHONY: demo test checks lint clean ops ops-down browser bench

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

## demo: install, then run the quarterly settlement on the bundled demo data.
demo: $(UV)
	$(UV) sync --frozen --no-dev --inexact
	.venv/bin/channelops demo

## ops: install, then start the local ops stack in the background: Prefect
## server and UI (http://127.0.0.1:4200), work pool, deployments, worker.
## OPS_DATABASE=postgres keeps Prefect's state in PostgreSQL (production).
OPS_DATABASE ?= sqlite
ops: $(UV)
	$(UV) sync --frozen --no-dev --inexact
	.venv/bin/channelops ops up --database $(OPS_DATABASE)

## ops-down: stop what `make ops` started.
ops-down:
	.venv/bin/channelops ops down

## test: install with the test tools, then lint, type-check and run every test,
## on two workers (a file stays on one worker, so its fixtures are built once).
test: $(UV) browser
	$(UV) sync --frozen
	$(MAKE) --no-print-directory checks
	.venv/bin/python -m pytest -n 2 --dist loadfile

## browser: headless Chromium for the e-mail screenshot tests (Debian package
## `chromium`), installed with apt-get when it is missing and we run as root;
## otherwise those tests are skipped and say why.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq --no-install-recommends chromium; \
	  else \
	    echo "chromium is missing and this is not root: screenshot tests skip"; \
	  fi; }

## checks: the static checks `make test` runs first (needs `uv sync` done).
checks:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/sqlfluff lint --disable-progress-bar dbt_project/models dbt_project/tests
	.venv/bin/mypy

lint: $(UV)
	$(UV) sync --frozen
	$(MAKE) --no-print-directory checks

## bench: measure every stage at one scale (bench/README.md), e.g. SCALE=10m.
## Runs under `nice` so that a shared machine stays usable.
SCALE ?= 1m
REPEATS ?= 1
bench: $(UV)
	$(UV) sync --frozen --inexact
	nice -n 10 .venv/bin/python -m bench --lines $(SCALE) --repeats $(REPEATS)

## clean: remove everything runs write (warehouse, outbox, reports).
clean:
	rm -rf var dbt_project/target dbt_project/logs
