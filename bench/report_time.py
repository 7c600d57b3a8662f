"""Benchmark of the dashboard report (issue 25): `write_report` on the demo world and on N events.

    .venv/bin/python bench/report_time.py [--backends duckdb,postgres] [--demo-users 2000]
        [--sizes 1000000] [--days 365] [--runs 3] [--keep DIR] [--no-demo]

For each backend, two kinds of warehouse:

- **demo world**: the sample world of `acd-warehouse demo` (2,000 people x 30 days, seed 42,
  ending 2024-06-30) seeded with `acd_sample_world.seed.seed_world`, every source pulled
  through the real connectors from `SampleWorldServer`, then the whole project's `dbt build`:
  what `tests/integration/conftest.py` `seed_ingest_build` does, at the demo's size. Every
  section has data.
- **N events** (`--sizes`): the warehouse of `bench/api_latency.py` (synthetic events of
  `bench/dbt_scale.py`, whole project built), shared through `--keep DIR` so a 10M build is
  done once. Only the event-derived marts have rows there (product days, funnels,
  attribution); the ads, Stripe, PCT and TikTok sections show their "no data yet" panels.

Each is built from a `git archive` of HEAD's `dbt_project/`; the report is the working tree's
`api.dashboard`, in this process. Per warehouse, `--runs` times (the first in a fresh process
includes importing Altair and starting vl-convert's engine):

- **write_report**: `api.dashboard.write_report(target, out)` end to end, what
  `acd-warehouse report` and the Dagster asset run (connect, query every section, build the
  charts, render them to SVG, write the file);
- **queries**: `load_sections` alone, on an open connection;
- **render**: the charts and the page from the loaded rows (`section_view` + `render_page`,
  SVG by vl-convert), i.e. rendering alone.

Targets (issue 25): under 10 s on the demo world and under 60 s at 10M events.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
from acd_analytics.warehouse_url import WarehouseTarget, parse_warehouse_url
from acd_sample_world.config import WorldConfig
from acd_sample_world.fake_apis.server import SampleWorldServer
from acd_sample_world.seed import seed_world
from psycopg import sql

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))
import dbt_scale  # noqa: E402
from api_latency import _admin, _database_target, drop_database, prepare_warehouse, source_copy  # noqa: E402

from api.dashboard import Filters, write_report  # noqa: E402
from api.dashboard.charts import section_view  # noqa: E402
from api.dashboard.page import render_page  # noqa: E402
from api.dashboard.queries import load_sections  # noqa: E402
from orchestration.commands.ingest import run_ingest  # noqa: E402
from warehouse_db.connection import connect  # noqa: E402

DEMO_END = date(2024, 6, 30)  # fixed, so every run seeds the same world


def seed_ingest_build(target: WarehouseTarget, work: Path, users: int, days: int) -> float:
    """The sample world seeded into `target`, every source ingested, the project built; the
    seconds it took."""
    started = time.perf_counter()
    config = WorldConfig(users=users, days=days, seed=42, end_date=DEMO_END, out_dir=work / "world")
    seed_world(target, config, spool_dir=work / "spool")
    with SampleWorldServer(config.out_dir) as server:
        settings = server.source_settings()
        run_ingest("stripe", target, env=settings)
        for source in ("meta", "tiktok"):
            run_ingest(source, target, start=config.start_date, end=config.end_date, env=settings)
    dbt_scale.PROJECT_DIR = source_copy(work) / "dbt_project"
    dbt_scale.dbt(target, ["build"], work)
    return time.perf_counter() - started


def time_report(target: WarehouseTarget, out: Path, runs: int) -> dict[str, Any]:
    """`runs` times (write_report, then queries alone and rendering alone)."""
    totals: list[float] = []
    queries: list[float] = []
    renders: list[float] = []
    report = None
    for _ in range(runs):
        started = time.perf_counter()
        report = write_report(target, out)
        totals.append(time.perf_counter() - started)
        with connect(target) as conn:
            began = time.perf_counter()
            sections = load_sections(conn, Filters())
            queries.append(time.perf_counter() - began)
        began = time.perf_counter()
        views = [section_view(data) for data in sections]
        render_page(views, Filters(), datetime.now(UTC), target.redacted())
        renders.append(time.perf_counter() - began)
    assert report is not None
    return {
        "first_s": totals[0],
        "write_report_s": statistics.median(totals[1:] or totals),
        "queries_s": statistics.median(queries),
        "render_s": statistics.median(renders),
        "sections_with_data": report.sections_with_data,
        "sections": len(report.views),
        "bytes": out.stat().st_size,
    }


def demo_world(backend: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    database = None
    if backend == "duckdb":
        target = parse_warehouse_url(f"duckdb:///{work / 'demo.duckdb'}")
    else:
        database = f"acd_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(_admin().postgres_conninfo or "", autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
        target = _database_target(database)
    try:
        print(f"[{backend}] demo world: seed, ingest, build", file=sys.stderr, flush=True)
        build_s = seed_ingest_build(
            target, work / f"demo-{backend}", args.demo_users, args.demo_days
        )
        with connect(target) as conn:
            events = conn.execute("select count(*) from shared_events").fetchone()[0]
        result = time_report(target, work / f"report-demo-{backend}.html", args.runs)
        world = f"demo ({args.demo_users:,} people x {args.demo_days} days)"
        return {"world": world, "events": events, "build_s": build_s, **result}
    finally:
        if database is not None:
            drop_database(database)


def events_world(backend: str, size: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    keep = Path(args.keep).resolve() if args.keep else None
    prepared = prepare_warehouse(backend, size, args.days, work, keep)
    try:
        result = time_report(prepared.target, work / f"report-{backend}-{size}.html", args.runs)
        world = f"{size:,} events x {args.days} days"
        build_s = None if prepared.reused else prepared.build_s
        return {"world": world, "events": size, "build_s": build_s, **result}
    finally:
        if not prepared.kept and prepared.database is not None:
            drop_database(prepared.database)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="duckdb,postgres")
    parser.add_argument("--demo-users", type=int, default=2000)
    parser.add_argument("--demo-days", type=int, default=30)
    parser.add_argument("--no-demo", action="store_true", help="skip the demo world")
    parser.add_argument("--sizes", default="1000000", help="event counts ('' for none)")
    parser.add_argument("--days", type=int, default=365, help="days the N events span")
    parser.add_argument("--runs", type=int, default=3, help="reports per warehouse")
    parser.add_argument("--keep", metavar="DIR", help="the warehouses of api_latency.py --keep")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    print(
        "| backend | warehouse | write_report first / median s | queries s | render s"
        " | sections with data | HTML KB |\n|---|---|---:|---:|---:|---:|---:|",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="acd-bench-report-") as tmp:
        work = Path(tmp)
        for backend in args.backends.split(","):
            worlds: list[Callable[[], dict[str, Any]]] = []
            if not args.no_demo:
                worlds.append(functools.partial(demo_world, backend, args, work))
            for size in (int(s) for s in args.sizes.split(",") if s):
                worlds.append(functools.partial(events_world, backend, size, args, work))
            for world in worlds:
                row = world()
                print(
                    f"| {backend} | {row['world']} | {row['first_s']:.1f} / "
                    f"{row['write_report_s']:.1f} | {row['queries_s']:.1f} | {row['render_s']:.1f}"
                    f" | {row['sections_with_data']} of {row['sections']} | {row['bytes'] / 1024:,.0f} |",
                    flush=True,
                )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
