"""`demo`: the main job on a fresh warehouse (SPEC §4).

Migrate, seed the sample world (events through the SDK), ingest every source from the
world's payloads through the real connectors and a local transport, `dbt build`, then print
what the warehouse holds. On DuckDB the file is recreated so the demo starts from nothing.
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta
from pathlib import Path

from acd_analytics.warehouse_url import WarehouseTarget

from ingest.world.config import WorldConfig, yesterday_utc
from ingest.world.server import SampleWorldServer
from orchestration.commands import Subcommands
from orchestration.commands.build import run_dbt
from orchestration.commands.ingest import run_ingest
from orchestration.commands.seed import seed_world
from warehouse_db.connection import connect
from warehouse_db.inventory import table_row_counts
from warehouse_db.migrations import migrate

ERRORS: tuple[type[Exception], ...] = ()
# The live APIs are polled repeatedly; the demo replays three polls of the sample world so
# ad status changes and video counter snapshots accumulate as they would in production.
POLLS_BEFORE_END = (timedelta(days=20), timedelta(days=10), timedelta(0))


def step(message: str) -> None:
    print(f"\n==> {message}", flush=True)


def cmd_demo(args: argparse.Namespace, target: WarehouseTarget) -> None:
    started = time.monotonic()
    if target.backend == "duckdb" and target.duckdb_path != ":memory:":
        for path in (Path(target.duckdb_path or ""), Path(f"{target.duckdb_path}.wal")):
            path.unlink(missing_ok=True)
        step(f"fresh embedded warehouse {target.duckdb_path}")
    migrate(target)

    config = WorldConfig(end_date=yesterday_utc(), out_dir=Path(args.out).resolve())
    step(f"seeding the sample world: {config.users:,} people over {config.days} days")
    seed_world(target, config, show_progress=True)

    with SampleWorldServer(config.out_dir) as server:
        settings = server.source_settings()
        for before_end in POLLS_BEFORE_END:
            server.now = config.end - before_end
            for source in ("meta", "tiktok"):
                step(f"ingest {source} as of {server.now:%Y-%m-%d}")
                run_ingest(
                    source, target, start=config.start_date, end=server.now.date(), env=settings
                )
        step("ingest stripe")
        run_ingest("stripe", target, env=settings)

    step("dbt build")
    run_dbt(target, ["build"])

    step("what the warehouse holds")
    with connect(target) as conn:
        counts = table_row_counts(conn)
        for schema, table, rows in counts:
            if schema in ("marts",) or table.startswith("shared_"):
                name = f"{schema}.{table}"
                print(f"  {name:<44} {rows:>10,} rows")
    print(f"\ndemo finished in {time.monotonic() - started:.0f} s; warehouse: {target.redacted()}")
    print("open the Dagster UI on the same warehouse with `make dev`")


def register(commands: Subcommands) -> None:
    demo = commands.add_parser("demo", help="the whole pipeline on a fresh sample world")
    demo.add_argument("--out", default="sample_world", help="where the world's payloads go")
    demo.set_defaults(handler=cmd_demo)
