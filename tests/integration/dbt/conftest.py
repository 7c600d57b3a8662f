"""Run dbt against a test's own warehouse, in this process, with its own target and log paths.

dbt runs in the pytest process (`warehouse_db.dbt_env.run_dbt_in_process`, as `acd-warehouse
build` runs it): the project is parsed once per backend and `--vars` per pytest process and the
manifest reused, which saves a dbt start-up (about 3 s) and a parse (1 to 7 s) per command.
The Dagster dbt steps run dbt in a subprocess; the Dagster tests cover that path.
"""

from __future__ import annotations

import contextlib
import io
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from acd_analytics import Client
from acd_analytics.warehouse_url import WarehouseTarget

from warehouse_db.connection import connect
from warehouse_db.dbt_env import dbt_paths, run_dbt_in_process

if TYPE_CHECKING:  # dbt loads in seconds: only the tests that run it import it
    from dbt.contracts.graph.manifest import Manifest


@dataclass(frozen=True)
class DbtRun:
    """What a dbt command gave: its exit code as the CLI would give it and its console output."""

    returncode: int
    stdout: str


RunDbt = Callable[..., DbtRun]

# Per (backend, `--vars`): the parsed project. Parsing renders every model with the command's
# vars (a bad var fails there, whatever the selection), so a manifest serves the commands with
# the same vars; `_for_database` points it at each test's database.
_MANIFESTS: dict[tuple[str, tuple[str, ...]], Manifest] = {}


def _for_database(manifest: Manifest, database: str) -> Manifest:
    """`manifest`, or a copy of it pointing at `database` when it was parsed for another
    database of the same backend. dbt bakes the target's database into every node and source
    (its `database` and quoted `relation_name`): the rest of a parse does not depend on it."""
    parsed_for = next(iter(manifest.nodes.values())).database
    if parsed_for == database:
        return manifest
    copy = manifest.deepcopy()
    for node in [*copy.nodes.values(), *copy.sources.values()]:
        if node.database != parsed_for:
            continue
        node.database = database
        relation = getattr(node, "relation_name", None)
        if relation is not None:
            assert relation.startswith(f'"{parsed_for}".'), relation
            node.relation_name = f'"{database}".' + relation[len(parsed_for) + 3 :]
    copy.build_flat_graph()  # the `graph` that macros read
    return copy


def _invoke(
    target: WarehouseTarget,
    args: Sequence[str],
    paths: dict[str, str],
    manifest: Manifest | None = None,
) -> tuple[int, Any, str]:
    """`dbt ARGS` on `target`: the CLI's exit code, dbt's result and its console output."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        result = run_dbt_in_process(target, args, manifest=manifest, extra_env=paths)
    # The CLI's codes: 0 success, 1 a node or test failed, 2 dbt itself failed.
    returncode = 0 if result.success else 1 if result.exception is None else 2
    exception = f"\n{result.exception!r}" if result.exception is not None else ""
    return returncode, result.result, output.getvalue() + exception


def dbt_in(
    target: WarehouseTarget, args: Sequence[str], work_dir: Path, *, check: bool = True
) -> DbtRun:
    """Run `dbt ARGS` against `target` with its target and log paths under `work_dir`;
    fails the test with dbt's output when it fails (unless `check=False`)."""
    paths = dbt_paths(work_dir) | {"DBT_USE_COLORS": "false"}
    at = list(args).index("--vars") if "--vars" in args else len(args)
    dbt_vars = tuple(args[at : at + 2])
    key = (target.backend, dbt_vars)
    manifest = _MANIFESTS.get(key)
    if manifest is None:
        returncode, parsed, stdout = _invoke(target, ["parse", *dbt_vars], paths)
        if returncode == 0:
            manifest = parsed
    if manifest is not None:
        database = target.database or Path(target.duckdb_path or "").stem
        manifest = _MANIFESTS[key] = _for_database(manifest, database)
        returncode, _, stdout = _invoke(target, args, paths, manifest)
    if check and returncode != 0:
        pytest.fail(f"dbt {' '.join(args)} failed ({returncode}):\n{stdout[-8000:]}")
    return DbtRun(returncode, stdout)


@pytest.fixture
def run_dbt(tmp_path: Path) -> RunDbt:
    """`run_dbt(target, ["build", "--select", "x"], check=True)`: `dbt_in` under the test's tmp dir."""

    def run(target: WarehouseTarget, args: Sequence[str], *, check: bool = True) -> DbtRun:
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
