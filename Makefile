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

.PHONY: install demo test test-fast lint format dev bench clean

# The dbt manifest the Dagster code location reads (loading it never runs dbt).
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := dbt_project/dbt_project.yml dbt_project/profiles.yml \
	$(shell find dbt_project/models dbt_project/macros dbt_project/seeds dbt_project/tests -type f)

install: .venv/.synced $(MANIFEST)

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(MANIFEST): .venv/.synced $(DBT_SOURCES)
	$(BIN)/python -m orchestration.defs.dbt.project

.venv/.synced: $(UV) pyproject.toml sdk/pyproject.toml sample_world/pyproject.toml uv.lock
	$(UV) sync --locked --python $(PYTHON)
	touch $@

demo: install
	$(BIN)/acd-warehouse demo

# The unmodified JavaScript clients the collector's tests drive, from the committed lockfile.
JS_CLIENTS := tests/js/node_modules/.package-lock.json
$(JS_CLIENTS): tests/js/package.json tests/js/package-lock.json
	npm ci --prefix tests/js --no-audit --no-fund
	touch $@

# The whole suite on two pytest-xdist workers, a test module per worker (`loadfile`), so that
# the builds a module shares are made once; each worker makes the session's shared builds.
test: install $(JS_CLIENTS)
	PYTHON=$(PYTHON) UV=$(UV) bash sdk/scripts/test_standalone.sh
	$(BIN)/pytest -n 2 --dist loadfile --durations=15

# Everything that needs no dbt build and no Dagster run (the tests not marked `slow`), on two
# pytest-xdist workers: these tests mostly wait on PostgreSQL, a subprocess or a socket, and
# each has its own warehouse.
test-fast: install $(JS_CLIENTS)
	$(BIN)/pytest -n 2 -m "not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy sdk/src sample_world/src warehouse_db ingest orchestration serving collector api
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
	$(BIN)/python bench/collector_throughput.py

clean:
	rm -rf .venv .uv warehouse/*.duckdb dbt_project/target dbt_project/logs
