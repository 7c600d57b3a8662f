"""The dbt connection settings, derived from the warehouse URL in this one place.

`dbt_project/profiles.yml` reads only the variables built here (`ACD_DBT_*`, and the password
in `DBT_ENV_SECRET_ACD_PG_PASSWORD`, whose value dbt scrubs from its logs and artifacts), so the
CLI, the Dagster dbt resource and the tests all point dbt at exactly the warehouse
`ACD_WAREHOUSE_URL` names.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from acd_analytics.warehouse_url import WarehouseTarget

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))
DBT_PASSWORD_SETTING = "DBT_ENV_SECRET_ACD_PG_PASSWORD"
# The `dbt build` of production runs (`acd-warehouse build`, the Dagster dbt steps): models,
# seeds and data tests. Unit tests check the code, not the data, and give the same result on
# every run of one version, so `make test` runs them (tests/integration/dbt) instead of every
# scheduled build (at 10M events, about 3 s of DuckDB's incremental build and 15 s of
# PostgreSQL's).
DBT_BUILD = ("build", "--exclude-resource-type", "unit_test")


def dbt_build_args(
    select: Sequence[str] | None = None,
    *,
    full_refresh: bool = False,
    dbt_vars: Mapping[str, Any] | None = None,
) -> list[str]:
    """The arguments of a production `dbt build` for a selection, the full-refresh flag and vars."""
    return [
        *DBT_BUILD,
        *(["--full-refresh"] if full_refresh else []),
        *(["--select", *select] if select else []),
        *(["--vars", json.dumps(dict(dbt_vars))] if dbt_vars else []),
    ]


class DbtTargetError(ValueError):
    """The warehouse cannot be used by dbt as given."""


def dbt_env(target: WarehouseTarget) -> dict[str, str]:
    """Environment variables that select and configure the dbt target for `target`."""
    common = {
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_PROJECT_DIR": str(DBT_PROJECT_DIR),
    }
    if target.backend == "duckdb":
        if target.duckdb_path in (None, ":memory:"):
            raise DbtTargetError(
                "ACD_WAREHOUSE_URL is an in-memory DuckDB: dbt needs a file (duckdb:///warehouse/acd.duckdb)"
            )
        return common | {"ACD_DBT_TARGET": "duckdb", "ACD_DBT_DUCKDB_PATH": str(target.duckdb_path)}
    return common | {
        "ACD_DBT_TARGET": "postgres",
        "ACD_DBT_PG_HOST": target.host or "localhost",
        "ACD_DBT_PG_PORT": str(target.port or 5432),
        "ACD_DBT_PG_USER": target.user or "",
        # dbt scrubs the values of DBT_ENV_SECRET_* variables from its logs and artifacts.
        DBT_PASSWORD_SETTING: target.password or "",
        "ACD_DBT_PG_DBNAME": target.database or "",
        # libpq sessions in UTC, so `::date` and date_trunc mean the UTC day (docs/METRICS.md, Conventions).
        "PGTZ": "UTC",
        # No JIT: the planner overestimates the CTE-heavy models by orders of magnitude (1.2
        # billion rows for 33 thousand), so JIT compiled for 9 of an incremental fct_events'
        # 12 seconds at 1M events (dbt_project/DECISIONLOG.md, "PostgreSQL sessions").
        "PGOPTIONS": "-c jit=off",
    }


def dbt_args(args: Sequence[str], project_dir: Path = DBT_PROJECT_DIR) -> list[str]:
    """`ARGS` on `project_dir`, whose profiles.yml sits beside dbt_project.yml."""
    return [*args, "--project-dir", str(project_dir), "--profiles-dir", str(project_dir)]


def dbt_command(args: Sequence[str], project_dir: Path = DBT_PROJECT_DIR) -> list[str]:
    """The argv of `dbt ARGS` on `project_dir`."""
    return [DBT_EXECUTABLE, *dbt_args(args, project_dir)]


def dbt_paths(work_dir: Path) -> dict[str, str]:
    """dbt's target and log paths under `work_dir`, so runs side by side never share artifacts."""
    return {
        "DBT_TARGET_PATH": str(work_dir / "dbt_target"),
        "DBT_LOG_PATH": str(work_dir / "dbt_logs"),
    }


def run_dbt_subprocess(
    target: WarehouseTarget,
    args: Sequence[str],
    work_dir: Path,
    project_dir: Path = DBT_PROJECT_DIR,
) -> subprocess.CompletedProcess[str]:
    """`dbt ARGS` against `target` in a subprocess, with its target and log paths under
    `work_dir` (`dbt_paths`); output captured, never raises."""
    return subprocess.run(
        dbt_command(args, project_dir),
        env=os.environ | dbt_env(target) | dbt_paths(work_dir),
        capture_output=True,
        text=True,
        check=False,
    )


@contextlib.contextmanager
def _environ(settings: Mapping[str, str]) -> Iterator[None]:
    """`os.environ` updated with `settings` for the block, then as it was."""
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open between commands in one process, so
    this process (and the processes it starts) can open the file after the command."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    if DuckDBConnectionManager._ENV is not None:
        DuckDBConnectionManager._ENV.close()
    DuckDBConnectionManager.close_all_connections()


def run_dbt_in_process(
    target: WarehouseTarget,
    args: Sequence[str],
    *,
    manifest: Any = None,
    extra_env: Mapping[str, str] | None = None,
) -> Any:
    """`dbt ARGS` against `target` through dbt's `dbtRunner` in this process; returns its
    `dbtRunnerResult`. dbt reads its profile from `os.environ`, so `dbt_env(target)` and
    `extra_env` are set for the command only (the password does not outlive it); `manifest`,
    when given, is a parsed project dbt uses instead of parsing again."""
    from dbt.cli.main import dbtRunner  # imported here: loading dbt takes seconds

    try:
        with _environ(dbt_env(target) | dict(extra_env or {})):
            return dbtRunner(manifest=manifest).invoke(dbt_args(args))
    finally:
        _release_duckdb()
