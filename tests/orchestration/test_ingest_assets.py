"""The ingest assets pull a sample world through the real connectors on both warehouses, their
checks pass, and a corrupted raw row fails its blocking check and stops what is downstream."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from acd_analytics.warehouse_url import WarehouseTarget
from acd_sample_world.fake_apis.server import SampleWorldServer

from ingest._common.windows import DateWindow
from orchestration.defs.ingest.assets import ASSETS
from orchestration.defs.ingest.checks import CHECKS
from orchestration.defs.partitions import range_tags
from orchestration.defs.resources import warehouse_resource
from orchestration.demo.pipeline import world_days
from orchestration.demo.resources import sample_client_resources
from tests.orchestration.conftest import server_base_urls
from warehouse_db.connection import connect

pytestmark = pytest.mark.slow

RAW_TABLES = (
    "raw_meta.ads_insights",
    "raw_meta.ads",
    "raw_tiktok.ad_reports",
    "raw_tiktok.ads",
    "raw_tiktok.video_snapshots",
    "raw_stripe.charges",
    "raw_stripe.invoices",
    "raw_stripe.customers",
)


def _resources(server: SampleWorldServer, target: WarehouseTarget) -> dict[str, Any]:
    return {
        "warehouse": warehouse_resource(target),
        **sample_client_resources(server_base_urls(server), server.manifest),
    }


def _counts(target: WarehouseTarget) -> dict[str, int]:
    with connect(target) as conn:
        return {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in RAW_TABLES}


def _materialize(
    assets: list[Any], server: SampleWorldServer, target: WarehouseTarget, days: DateWindow
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        assets, resources=_resources(server, target), tags=range_tags(days), raise_on_error=False
    )


def test_ingest_assets_pull_the_sample_world_and_every_check_passes(
    warehouse: WarehouseTarget, world_server: SampleWorldServer
) -> None:
    days = world_days(world_server.manifest)
    result = _materialize([*ASSETS, *CHECKS], world_server, warehouse, days)

    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == len(CHECKS)
    assert [e.description for e in evaluations if not e.passed] == []
    counts = _counts(warehouse)
    assert all(counts.values()), counts
    # Every report day of the run is a materialized partition of the report assets.
    partitions = {
        (e.asset_key.to_user_string(), e.partition)
        for e in result.get_asset_materialization_events()
        if e.partition
    }
    expected_days = {
        (days.since.fromordinal(days.since.toordinal() + i)).isoformat()
        for i in range((days.until - days.since).days + 1)
    }
    assert {p for key, p in partitions if key == "raw_meta/ads_insights"} == expected_days
    assert {p for key, p in partitions if key == "raw_tiktok/ad_reports"} == expected_days

    # Re-running the same partitions changes nothing (idempotent upserts, no double pull).
    again = _materialize(list(ASSETS), world_server, warehouse, days)
    assert again.success
    assert _counts(warehouse)["raw_meta.ads_insights"] == counts["raw_meta.ads_insights"]
    written = {
        e.asset_key.to_user_string(): e.materialization.metadata["rows_written"].value
        for e in again.get_asset_materialization_events()
        if e.asset_key.path[0] in ("raw_meta", "raw_tiktok")
        and e.asset_key.path[1] != "video_snapshots"
    }
    assert set(written.values()) == {0}, written


def _corrupt_first_insights_row(world: Path) -> dict[str, Any]:
    path = sorted(world.glob("meta/*/insights/*.jsonl"))[-1]
    lines = path.read_text().splitlines()
    row = json.loads(lines[0])
    row["spend"] = "-12.34"
    lines[0] = json.dumps(row)
    path.write_text("\n".join(lines) + "\n")
    return row


def test_a_negative_spend_fails_its_blocking_check_and_stops_downstream_assets(
    duckdb_url: str, world_dir: Path, tmp_path: Path
) -> None:
    from warehouse_db.connection import warehouse_target
    from warehouse_db.migrations import migrate

    world = tmp_path / "world"
    shutil.copytree(world_dir, world)
    corrupted = _corrupt_first_insights_row(world)
    target = warehouse_target(duckdb_url)
    migrate(target)
    ran: list[str] = []

    @dg.asset(
        key=["marts", "downstream_of_insights"], deps=[dg.AssetKey(["raw_meta", "ads_insights"])]
    )
    def downstream() -> None:
        ran.append("downstream")

    insights = next(a for a in ASSETS if dg.AssetKey(["raw_meta", "ads_insights"]) in a.keys)
    check = next(c for c in CHECKS if "meta_insights" in next(iter(c.check_keys)).name)
    day = date.fromisoformat(corrupted["date_start"])
    with SampleWorldServer(world) as server:
        result = _materialize([insights, check, downstream], server, target, DateWindow(day, day))

    assert not result.success
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert "spend is negative: 1 rows failed" in (evaluation.description or "")
    assert f"ad_id={corrupted['ad_id']}" in (evaluation.description or "")
    assert ran == []
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert materialized == {dg.AssetKey(["raw_meta", "ads_insights"])}
    started = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    assert "marts__downstream_of_insights" not in started
