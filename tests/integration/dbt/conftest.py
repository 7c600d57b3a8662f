"""Run dbt against a test's own warehouse, in a subprocess with its own target and log paths."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from acd_analytics import Client
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


def eid(n: int) -> str:
    """A readable, ordered event id: ties in time are broken by event_id (docs/METRICS.md, Attribution)."""
    return str(uuid.UUID(int=n))


def track(target: WarehouseTarget, spool: Path, events: list[dict[str, Any]]) -> None:
    """Write `events` through the SDK, each a dict of `Client.track`'s keyword arguments."""
    client = Client(target.url, sync_mode=True, spool_dir=spool)
    for event in events:
        client.track(**event)
    client.flush()
    client.shutdown()


def window_vars(since: datetime, until: datetime) -> list[str]:
    """The `--vars` of a partition run over the events received in [since, until)."""
    return [
        "--vars",
        json.dumps(
            {"events_received_from": since.isoformat(), "events_received_until": until.isoformat()}
        ),
    ]


# The core marts the scenarios compare, each with the columns that order its rows.
CORE_MARTS = {
    "fct_events": "event_id",
    "dim_persons": "person_id",
    "fct_funnel_steps": "funnel_name, person_id, step_index",
    "rpt_funnel_conversion": "funnel_name, cohort_date, step_index",
    "fct_attribution_credits": "conversion_event_id, model, touchpoint_position",
    "fct_channel_credits_daily": "conversion_date, model, channel, campaign_id, currency",
    "rpt_channel_attribution": "conversion_date, model, channel, campaign_id, currency",
}

# Stamped by the dbt runs that wrote the row (`built_at` of the incremental marts; fct_events
# also keeps the run that first merged it, `first_built_at`).
RUN_STAMP_COLUMNS = {"built_at", "first_built_at"}
