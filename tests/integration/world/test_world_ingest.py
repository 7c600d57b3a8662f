"""The real connectors load everything the sample world generated, through its transport.

`acd-warehouse ingest stripe` (and meta, tiktok) against `SampleWorldServer` must load every
object of the world's payloads, on both backends, and a second run must change nothing.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from acd_analytics.warehouse_url import WarehouseTarget
from acd_sample_world.config import WorldConfig
from acd_sample_world.fake_apis.server import SampleWorldServer
from acd_sample_world.seed import seed_world

from orchestration.cli import main
from orchestration.commands.ingest import run_ingest
from warehouse_db.connection import connect

STRIPE_OBJECTS = (
    "customers",
    "products",
    "prices",
    "subscriptions",
    "invoices",
    "charges",
    "refunds",
)


def count(target: WarehouseTarget, sql: str) -> int:
    with connect(target) as conn:
        return int(conn.execute(sql).fetchall()[0][0])


def test_every_generated_object_is_loaded_once(
    warehouse: WarehouseTarget,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = WorldConfig(
        users=80, days=10, seed=11, end_date=date(2024, 5, 31), out_dir=tmp_path / "world"
    )
    seed_world(warehouse, config, spool_dir=tmp_path / "spool")
    counts = json.loads((config.out_dir / "manifest.json").read_text())["counts"]

    with SampleWorldServer(config.out_dir) as server:
        settings = server.source_settings()
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("ACD_WAREHOUSE_URL", warehouse.url)
        # The command itself, as a user runs it.
        assert main(["ingest", "stripe"]) == 0
        assert "ingest stripe: done" in capsys.readouterr().out
        for source in ("meta", "tiktok"):
            run_ingest(
                source, warehouse, start=config.start_date, end=config.end_date, env=settings
            )

        for table in STRIPE_OBJECTS:
            assert (
                count(warehouse, f"select count(*) from raw_stripe.{table}")
                == counts["stripe"][table]
            ), table
        assert (
            count(warehouse, "select count(*) from raw_meta.ads_insights")
            == counts["meta_insights_rows"]
        )
        assert (
            count(warehouse, "select count(distinct ad_id) from raw_meta.ads") == counts["meta_ads"]
        )
        assert (
            count(warehouse, "select count(*) from raw_tiktok.ad_reports")
            == counts["tiktok_report_rows"]
        )
        assert (
            count(warehouse, "select count(distinct ad_id) from raw_tiktok.ads")
            == counts["tiktok_ads"]
        )
        assert (
            count(warehouse, "select count(distinct video_id) from raw_tiktok.video_snapshots")
            == counts["tiktok_videos"]
        )

        # Same world, same clock: a second pull writes nothing.
        again = [
            *run_ingest("stripe", warehouse, env=settings),
            *run_ingest(
                "meta", warehouse, start=config.start_date, end=config.end_date, env=settings
            ),
        ]
        assert sum(result.written for result in again) == 0
