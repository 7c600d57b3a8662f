"""Acceptance of the whole dbt project on a sample world (issues 6 and 7, "How it is checked").

Once per backend (module-scoped; it is the slow part): a small deterministic world is seeded
into a fresh DuckDB file and a fresh PostgreSQL database, every source is pulled through the
real connectors from `SampleWorldServer`, and `dbt build` runs the whole project (models,
seeds, data tests, unit tests). Then every mart must be non-empty on both, equal between the
two backends row for row, and the entitlement reconciliation must report exactly the faults
the world planted (its `manifest.json`).
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from acd_analytics.warehouse_url import WarehouseTarget, parse_warehouse_url
from psycopg import sql

from ingest.world.config import WorldConfig
from ingest.world.server import SampleWorldServer
from orchestration.commands.ingest import run_ingest
from orchestration.commands.seed import seed_world
from tests.integration.dbt.conftest import dbt_in, query
from warehouse_db.connection import connect

pytestmark = pytest.mark.slow

BACKENDS = ("duckdb", "postgres")
# A fixed world: the same people, ads and Stripe objects on every run and both backends.
WORLD = {"users": 300, "days": 30, "seed": 42, "end_date": date(2024, 6, 30)}

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


def _seed_ingest_build(target: WarehouseTarget, work_dir: Path) -> dict[str, Any]:
    """Seed the world into `target`, pull every source from its transport, build; the manifest."""
    config = WorldConfig(**WORLD, out_dir=work_dir / "world")
    manifest = seed_world(target, config, spool_dir=work_dir / "spool")
    with SampleWorldServer(config.out_dir) as server:
        settings = server.source_settings()
        run_ingest("stripe", target, env=settings)
        for source in ("meta", "tiktok"):
            run_ingest(source, target, start=config.start_date, end=config.end_date, env=settings)
    _dbt(target, ["build"], work_dir)
    return manifest


class Built:
    """A backend's warehouse after seed + ingest + build, with the world's manifest."""

    def __init__(self, target: WarehouseTarget, manifest: dict[str, Any], work_dir: Path):
        self.target = target
        self.manifest = manifest
        self.work_dir = work_dir


@pytest.fixture(scope="module")
def built_worlds(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Built]]:
    """Each backend seeded, ingested and built once (lazily) for the whole module."""
    databases: list[str] = []

    class Lazy(dict[str, Built]):
        def __missing__(self, backend: str) -> Built:
            work_dir = tmp_path_factory.mktemp(f"sample_world_{backend}")
            if backend == "duckdb":
                target = parse_warehouse_url(f"duckdb:///{work_dir / 'warehouse.duckdb'}")
            else:
                admin: WarehouseTarget = request.getfixturevalue("postgres_admin")
                database = f"acd_test_{uuid.uuid4().hex[:12]}"
                with psycopg.connect(admin.postgres_conninfo or "", autocommit=True) as conn:
                    conn.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
                databases.append(database)
                target = parse_warehouse_url(admin.url.rsplit("/", 1)[0] + f"/{database}")
            self[backend] = Built(target, _seed_ingest_build(target, work_dir), work_dir)
            return self[backend]

    try:
        yield Lazy()
    finally:
        if databases:
            admin = request.getfixturevalue("postgres_admin")
            with psycopg.connect(admin.postgres_conninfo or "", autocommit=True) as conn:
                for database in databases:
                    conn.execute(
                        sql.SQL("drop database if exists {} with (force)").format(
                            sql.Identifier(database)
                        )
                    )


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def built(request: pytest.FixtureRequest, built_worlds: dict[str, Built]) -> Built:
    if request.param == "postgres":
        request.getfixturevalue("postgres_admin")  # skips when PostgreSQL is unreachable
    return built_worlds[request.param]


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
