"""Acceptance of the whole dbt project on a sample world (issues 6 and 7, "How it is checked").

Once per backend (`built_worlds`, session-scoped in `tests/integration/conftest.py`; it is the
slow part): a small deterministic world is seeded into a fresh DuckDB file and a fresh
PostgreSQL database, every source is pulled through the real connectors from
`SampleWorldServer`, and `dbt build` runs the whole project (models, seeds, data tests, unit
tests). Then every mart must be non-empty on both, equal between the two backends row for
row, and the entitlement reconciliation must report exactly the faults the world planted (its
`manifest.json`).
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from acd_analytics.warehouse_url import WarehouseTarget

from orchestration.defs.dbt.project import ensure_manifest
from tests.integration.conftest import Built
from tests.integration.dbt.conftest import dbt_in, query
from warehouse_db.connection import connect

pytestmark = pytest.mark.slow

BACKENDS = ("duckdb", "postgres")

# Columns stamped by the SDK or the warehouse when the world is written (`sent_at` by the SDK's
# clock, `received_at` by the warehouse's default), not computed by the models from the data:
# they differ between two loads of the same world; and `built_at` / `first_built_at`, the
# start of the dbt runs that wrote the row (incremental marts). Every other column is compared.
WALL_CLOCK_COLUMNS = {"sent_at", "received_at", "built_at", "first_built_at"}
# The TikTok Display API has no history: each pull stores the videos' counters as of the pull,
# stamped with the time of the pull (`fetched_at`), which the mart keeps as `snapshot_at`.
# fct_attribution_credits keeps its conversion event's `received_at` (its incremental watermark).
WALL_CLOCK_COLUMNS_BY_MART = {
    "fct_tiktok_video_daily": {"snapshot_at"},
    "fct_attribution_credits": {"conversion_received_at"},
}


def _dbt(target: WarehouseTarget, args: Sequence[str], work_dir: Path) -> str:
    return dbt_in(target, args, work_dir).stdout


def marts(target: WarehouseTarget) -> list[str]:
    return sorted(
        name
        for (name,) in query(
            target,
            "select table_name from information_schema.tables"
            " where table_schema = 'marts' and table_type = 'BASE TABLE'",
        )
    )


def test_every_mart_is_built_and_non_empty(built: Built) -> None:
    names = marts(built.target)
    # the marts of docs/METRICS.md, at least
    assert {
        "dim_persons",
        "fct_events",
        "fct_funnel_steps",
        "rpt_funnel_conversion",
        "fct_attribution_credits",
        "rpt_channel_attribution",
        "fct_ad_performance_daily",
        "dim_ads",
        "fct_ad_status_history",
        "rpt_creative_performance",
        "rpt_pct_hook_performance",
        "rpt_pct_feature_performance",
        "fct_tiktok_video_daily",
        "fct_mrr",
        "rpt_mrr_movements",
        "rpt_entitlement_reconciliation",
        "rpt_product_daily",
        "rpt_ai_costs_daily",
        "rpt_cross_product_usage",
    } <= set(names)
    empty = [
        name
        for name in names
        if query(built.target, f"select count(*) from marts.{name}")[0][0] == 0
    ]
    assert empty == []


def test_every_model_documents_exactly_the_columns_it_builds(built: Built) -> None:
    """The YAML entry of every model lists the columns the build made, no more and no fewer
    (tests/integration/dbt/test_dbt_docs.py checks their descriptions on the manifest; marts'
    contracts already enforce it, the other models only a build can check)."""
    manifest = json.loads(ensure_manifest().read_text())
    built_columns: dict[tuple[str, str], set[str]] = {}
    for schema, table, column in query(
        built.target,
        "select table_schema, table_name, column_name from information_schema.columns"
        " where table_schema in ('staging', 'intermediate', 'marts')",
    ):
        built_columns.setdefault((schema, table), set()).add(column)
    wrong = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        documented = set(node["columns"])
        made = built_columns.get((node["schema"], node["alias"]), set())
        if documented != made:
            wrong[node["name"]] = {
                "undocumented": sorted(made - documented),
                "not built": sorted(documented - made),
            }
    assert wrong == {}


def test_spend_reaches_the_channel_report(built: Built) -> None:
    """Every dollar of ad spend appears once per attribution model (issue 1 of the integration)."""
    by_model = query(
        built.target,
        "select model, currency, sum(spend) from marts.rpt_channel_attribution"
        " where spend is not null group by model, currency order by model, currency",
    )
    reported = dict(
        query(
            built.target,
            "select currency, sum(spend) from marts.fct_ad_performance_daily group by currency",
        )
    )
    assert reported and all(spend > 0 for spend in reported.values())
    models = {model for model, _, _ in by_model}
    assert len(models) == 5
    for _, currency, spend in by_model:
        assert spend == reported[currency]


def test_reconciliation_reports_exactly_the_planted_faults(built: Built) -> None:
    faults = {
        (fault["issue_type"], fault["source_purchase_id"], fault["app"])
        for fault in built.manifest["faults"]
    }
    assert faults, "the world plants reconciliation faults"
    found = query(
        built.target,
        "select issue_type, source_purchase_id, app from marts.rpt_entitlement_reconciliation"
        " where issue_type <> 'ok'",
    )
    assert len(found) == len(set(found))
    assert set(found) == faults


def test_unit_tests_do_not_depend_on_configuration(built: Built) -> None:
    """Unit tests pin the vars they assume: other settings (as a deployment may pass with
    --vars) do not change their outcome. Unit tests never read warehouse rows or the clock."""
    if built.target.backend != "duckdb":
        pytest.skip("once is enough")
    _dbt(
        built.target,
        [
            "test",
            "--select",
            "test_type:unit",
            "--vars",
            json.dumps(
                {
                    "attribution_lookback_days": 7,
                    "attribution_half_life_days": 3,
                    "conversion_event_names": ["purchase_completed"],
                    "pct_min_impressions": 5,
                    "entitlement_grace_minutes": 60,
                }
            ),
        ],
        built.work_dir,
    )


# --- the same marts on both backends ---------------------------------------------------------


def _normalized(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, Decimal | float) and not isinstance(value, bool):
        return float(value)
    return value


def _sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Rows sorted the same way on both backends: None first, floats rounded so that a
    difference in the 12th digit cannot swap two rows, JSON by its canonical text."""
    key = []
    for value in row:
        if value is None:
            key.append((0, ""))
        elif isinstance(value, float):
            key.append((1, round(value, 6) if math.isfinite(value) else str(value)))
        elif isinstance(value, dict | list):
            key.append((2, json.dumps(value, sort_keys=True)))
        else:
            key.append((3, str(value)))
    return tuple(key)


def _rows(target: WarehouseTarget, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    with connect(target) as conn:
        cursor = conn.execute(f"select * from marts.{table}")
        columns = [column[0] for column in cursor.description]
        rows = [tuple(_normalized(value) for value in row) for row in cursor.fetchall()]
    skipped = WALL_CLOCK_COLUMNS | WALL_CLOCK_COLUMNS_BY_MART.get(table, set())
    keep = [index for index, column in enumerate(columns) if column not in skipped]
    rows = [tuple(row[index] for index in keep) for row in rows]
    return [columns[index] for index in keep], sorted(rows, key=_sort_key)


@pytest.mark.postgres
def test_marts_equal_on_duckdb_and_postgres(
    built_worlds: dict[str, Built], postgres_admin: WarehouseTarget
) -> None:
    duck, pg = built_worlds["duckdb"], built_worlds["postgres"]
    assert duck.manifest["faults"] == pg.manifest["faults"]  # the same world on both
    names = marts(duck.target)
    assert names == marts(pg.target)
    mismatches: list[str] = []
    for table in names:
        duck_columns, duck_rows = _rows(duck.target, table)
        pg_columns, pg_rows = _rows(pg.target, table)
        assert duck_columns == pg_columns, table
        if len(duck_rows) != len(pg_rows):
            mismatches.append(
                f"{table}: {len(duck_rows)} rows on DuckDB, {len(pg_rows)} on PostgreSQL"
            )
            continue
        for duck_row, pg_row in zip(duck_rows, pg_rows, strict=True):
            for column, duck_value, pg_value in zip(duck_columns, duck_row, pg_row, strict=True):
                if isinstance(duck_value, float) and isinstance(pg_value, float):
                    equal = duck_value == pytest.approx(pg_value, rel=1e-9, abs=1e-9)
                else:
                    equal = duck_value == pg_value
                if not equal:
                    mismatches.append(
                        f"{table}.{column}: {duck_value!r} != {pg_value!r} in {duck_row}"
                    )
                    break
            if mismatches and mismatches[-1].startswith(f"{table}."):
                break
    assert mismatches == []
