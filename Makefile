# The one interface, the same locally and in CI. Every target sets itself up on first use:
# a private uv in .uv/, then `uv sync --locked` into .venv/ with bytecode compiled.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .uv/bin/uv
BIN := .venv/bin

export UV_COMPILE_BYTECODE := 1
export UV_PYTHON_DOWNLOADS := never
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1

.PHONY: install demo test lint format dev bench clean

install: .venv/.synced

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: $(UV) pyproject.toml sdk/pyproject.toml uv.lock
	$(UV) sync --locked --python $(PYTHON)
	touch $@

demo: install
	$(BIN)/acd-warehouse demo

# The unmodified JavaScript clients the collector's tests drive, from the committed lockfile.
JS_CLIENTS := tests/js/node_modules/.package-lock.json
$(JS_CLIENTS): tests/js/package.json tests/js/package-lock.json
	npm ci --prefix tests/js --no-audit --no-fund
	touch $@

test: install $(JS_CLIENTS)
	PYTHON=$(PYTHON) UV=$(UV) bash sdk/scripts/test_standalone.sh
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy sdk/src warehouse_db ingest orchestration collector
	cd dbt_project && ../$(BIN)/sqlfluff lint models tests --processes 2

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export DAGSTER_HOME

dev: install
	mkdir -p $(DAGSTER_HOME) && cp orchestration/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

# Benchmarks are not tests: they print figures for docs/BENCHMARKS.md and assert nothing.
bench: install
	$(UV) run --group bench python bench/sdk_throughput.py
	$(BIN)/python bench/ingest_throughput.py
	$(BIN)/python bench/world_generation.py --users 20000 --days 30
	$(BIN)/python bench/dbt_scale.py --sizes 100000 --backends duckdb,postgres --select ''

clean:
	rm -rf .venv .uv warehouse/*.duckdb dbt_project/target dbt_project/logs
