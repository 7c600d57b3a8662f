"""Run dbt against a test's own warehouse, in a subprocess with its own target and log paths."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from acd_analytics.warehouse_url import WarehouseTarget

from warehouse_db.connection import connect
from warehouse_db.dbt_env import run_dbt_subprocess

RunDbt = Callable[..., subprocess.CompletedProcess[str]]


def dbt_in(
    target: WarehouseTarget, args: Sequence[str], work_dir: Path, *, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run `dbt ARGS` against `target` with its target and log paths under `work_dir`;
    fails the test with dbt's output when it fails (unless `check=False`)."""
    proc = run_dbt_subprocess(target, args, work_dir)
    if check and proc.returncode != 0:
        pytest.fail(
            f"dbt {' '.join(args)} failed ({proc.returncode}):\n"
            f"{proc.stdout[-8000:]}\n{proc.stderr[-2000:]}"
        )
    return proc


@pytest.fixture
def run_dbt(tmp_path: Path) -> RunDbt:
    """`run_dbt(target, ["build", "--select", "x"], check=True)`: `dbt_in` under the test's tmp dir."""

    def run(
        target: WarehouseTarget, args: Sequence[str], *, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return dbt_in(target, args, tmp_path, check=check)

    return run


def query(target: WarehouseTarget, sql: str) -> list[tuple[Any, ...]]:
    """All rows of `sql` on `target` as tuples."""
    with connect(target) as conn:
        return [tuple(row) for row in conn.execute(sql).fetchall()]
