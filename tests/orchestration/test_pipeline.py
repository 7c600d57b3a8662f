"""The demo's pipeline: a seeded sample world through every asset and check, in one process."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from acd_analytics.warehouse_url import WarehouseTarget
from acd_sample_world.config import WorldConfig, yesterday_utc
from acd_sample_world.seed import seed_world

from orchestration.defs.partitions import received_days
from orchestration.demo.pipeline import run_pipeline
from warehouse_db.connection import connect

pytestmark = pytest.mark.slow


def test_every_asset_materializes_and_every_check_passes_on_the_sample_world(
    warehouse: WarehouseTarget, tmp_path: Path
) -> None:
    world = tmp_path / "world"
    config = WorldConfig(users=150, days=10, seed=5, end_date=yesterday_utc(), out_dir=world)
    seed_world(warehouse, config)
    messages: list[str] = []

    home = tmp_path / "dagster_home"
    report = tmp_path / "report.html"
    summary = run_pipeline(
        warehouse, world, progress=messages.append, dagster_home=home, report_path=report
    )

    assert summary.success, "\n".join(summary.lines())
    assert summary.failed_checks == []
    assert summary.not_materialized == []
    assert {"raw_meta/ads_insights", "marts/fct_attribution_credits", "marts/fct_mrr"} <= set(
        summary.materialized
    )
    checked = {(c.asset, c.check) for c in summary.checks}
    assert ("raw_meta/ads_insights", "meta_insights_expectations") in checked
    assert ("shared/shared_events", "freshness") in checked
    assert ("marts/fct_mrr", "expectations") in checked
    assert len(summary.checks) > 100  # dbt's tests too
    assert any("raw_meta__ads_insights" in m for m in messages)
    with connect(warehouse) as conn:
        credits = conn.execute("select count(*) from marts.fct_attribution_credits").fetchone()[0]
        assert credits > 0
        # Earlier polls of the world: each video has a snapshot from more than one moment.
        snapshots, videos = conn.execute(
            "select count(*), count(distinct video_id) from raw_tiktok.video_snapshots"
        ).fetchone()
    assert snapshots > videos > 0
    assert sum("polling ad statuses" in m for m in messages) == 2
    # fct_events is materialized as the received-day partitions the hourly run covers now.
    received = received_days(datetime.now(UTC))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(["marts", "fct_events"]))
    assert event is not None and event.asset_materialization is not None
    assert event.asset_materialization.partition in {
        received.since.isoformat(),
        received.until.isoformat(),
    }
    # The dashboard ran after the dbt build: the file, and its headline chart as a picture.
    assert "dashboard/report" in summary.materialized
    assert 'data-section="product_daily"' in report.read_text()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(["dashboard", "report"]))
    assert event is not None and event.asset_materialization is not None
    metadata = event.asset_materialization.metadata
    assert metadata["path"].value == str(report.resolve())
    assert str(metadata["preview"].value).startswith("![Products by day](data:image/png;base64,")
