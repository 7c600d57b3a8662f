"""`demo`: the main job on a fresh warehouse (docs/REFERENCE.md, Commands).

Migrate, seed the sample world (events through the SDK), then run the whole Dagster code
location in-process with the sample client resources (`orchestration.pipeline`): the real
connectors pull the world's payloads from a local transport, the checks gate dbt, every dbt
model and test and every data-quality suite runs, and the dashboard asset writes the report.
Prints what the marts say, and the report's path last. On DuckDB the file is recreated so the
demo starts from nothing.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from acd_analytics.warehouse_url import WarehouseTarget

from api.dashboard import DEFAULT_REPORT_PATH, write_report
from ingest.world.config import WorldConfig, yesterday_utc
from orchestration.commands import Subcommands
from orchestration.commands.seed import seed_world
from orchestration.pipeline import run_pipeline
from orchestration.report import marts_report


class DemoFailed(RuntimeError):
    """An asset or check of the demo pipeline failed."""


ERRORS: tuple[type[Exception], ...] = (DemoFailed,)
DAGSTER_HOME = Path(".dagster_home")


def step(message: str) -> None:
    print(f"\n==> {message}", flush=True)


def cmd_demo(args: argparse.Namespace, target: WarehouseTarget) -> None:
    started = time.monotonic()
    if target.backend == "duckdb" and target.duckdb_path != ":memory:":
        for path in (Path(target.duckdb_path or ""), Path(f"{target.duckdb_path}.wal")):
            path.unlink(missing_ok=True)
        step(f"fresh embedded warehouse {target.duckdb_path}")

    config = WorldConfig(
        users=args.users, days=args.days, end_date=yesterday_utc(), out_dir=Path(args.out).resolve()
    )
    step(f"seeding the sample world: {config.users:,} people over {config.days} days")
    seed_world(target, config, show_progress=True)

    step("running every asset and check through Dagster (sample API resources)")
    report_path = Path(args.report).resolve()
    summary = run_pipeline(
        target,
        config.out_dir,
        progress=print,
        dagster_home=DAGSTER_HOME.resolve(),
        report_path=report_path,
    )
    for line in summary.lines():
        print(line)

    step("what the marts say")
    for line in marts_report(target):
        print(line)

    if "dashboard/report" not in summary.materialized:
        step("the dashboard asset did not run: writing the report from the marts as they are")
        write_report(target, report_path)

    print(f"\ndemo finished in {time.monotonic() - started:.0f} s; warehouse: {target.redacted()}")
    print("open the Dagster UI on the same warehouse and runs with `make dev`")
    print("the dashboard of the marts (open it in a browser):")
    print(report_path)
    if not summary.success:
        raise DemoFailed(
            "the pipeline did not finish cleanly: see the failed steps and checks above"
        )


def register(commands: Subcommands) -> None:
    demo = commands.add_parser("demo", help="the whole pipeline on a fresh sample world")
    demo.add_argument("--users", type=int, default=2000, help="people in the sample world")
    demo.add_argument("--days", type=int, default=30, help="days the sample world spans")
    demo.add_argument("--out", default="sample_world", help="where the world's payloads go")
    demo.add_argument(
        "--report",
        default=str(DEFAULT_REPORT_PATH),
        help=f"where the dashboard report goes ({DEFAULT_REPORT_PATH})",
    )
    demo.set_defaults(handler=cmd_demo)
