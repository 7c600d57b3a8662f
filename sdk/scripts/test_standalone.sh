#!/usr/bin/env bash
# Prove the SDK stands alone: build its wheel by itself, install only that wheel (+ the duckdb
# extra) and pytest into a throwaway venv, and run sdk/tests there. No warehouse package
# (warehouse_db, ingest, orchestration, acd_sample_world, dagster, dbt) is importable in that
# venv.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
UV="${UV:-$ROOT/.uv/bin/uv}"
PYTHON="${PYTHON:-python3.11}"
export UV_PYTHON_DOWNLOADS=never
WORK="$(mktemp -d "${TMPDIR:-/tmp}/acd-sdk-standalone.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

"$UV" build --package acd-analytics --wheel --out-dir "$WORK/dist" --directory "$ROOT" >/dev/null
WHEEL="$(ls "$WORK"/dist/acd_analytics-*.whl)"
"$UV" venv --quiet --python "$PYTHON" "$WORK/venv"
"$UV" pip install --quiet --python "$WORK/venv/bin/python" "${WHEEL}[duckdb]" pytest

# The wheel, not the source tree, must be what the tests import.
cd "$WORK"
"$WORK/venv/bin/python" - <<'PY'
import importlib.util, acd_analytics
assert "site-packages" in acd_analytics.__file__, acd_analytics.__file__
for name in ("warehouse_db", "ingest", "orchestration", "acd_sample_world", "dagster", "dbt",
             "polars", "psycopg"):
    assert importlib.util.find_spec(name) is None, f"{name} must not be installed"
print(f"acd-analytics {acd_analytics.__version__} from {acd_analytics.__file__}")
PY
cp -r "$ROOT/sdk/tests" "$WORK/tests"
"$WORK/venv/bin/python" -m pytest -q -p no:cacheprovider -c /dev/null --rootdir "$WORK" "$WORK/tests" "$@"
