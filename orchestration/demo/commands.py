"""What `acd-warehouse seed` and `acd-warehouse demo` do (docs/REFERENCE.md, Commands), once
`orchestration.commands.seed` and `.demo` have parsed their arguments.

`seed` writes the deterministic sample world into the warehouse and its API payloads to disk
(`acd_sample_world.seed.seed_world`). `demo` recreates an embedded warehouse, seeds a world,
then runs the whole Dagster code location in process with the sample client resources
(`orchestration.demo.pipeline`): the real connectors pull the world's payloads from a local
transport, the checks gate dbt, every dbt model and test and every data-quality suite runs, and
the dashboard asset writes the report. It prints what the marts say, and the report's path last.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from acd_analytics.warehouse_url import WarehouseTarget
from acd_sample_world.config import DEFAULT_OUT_DIR, WorldConfig, yesterday_utc
from acd_sample_world.seed import SeedError, seed_world

from api.dashboard import write_report
from orchestration.demo.pipeline import run_pipeline
from orchestration.report import marts_report

__all__ = [
    "DAGSTER_HOME",
    "DEFAULT_OUT_DIR",
    "DemoFailed",
    "SeedError",
    "run_demo",
    "run_seed",
    "world_config",
]

DAGSTER_HOME = Path(".dagster_home")


class DemoFailed(RuntimeError):
    """An asset or check of the demo pipeline failed."""


def world_config(
    *, users: int, days: int, seed: int, end_date: date | None, out: str | None
) -> WorldConfig:
    """The world `seed` writes: ending yesterday (UTC) unless told, its payloads in `out`, else
    in `warehouse/sample_world/` under the current directory."""
    return WorldConfig(
        users=users,
        days=days,
        seed=seed,
        end_date=end_date or yesterday_utc(),
        out_dir=Path(out) if out else Path.cwd() / DEFAULT_OUT_DIR,
    )


def run_seed(target: WarehouseTarget, config: WorldConfig) -> None:
    """Seed the world of `config` into `target` and say what was written."""
    print(
        f"seeding {config.users:,} people over {config.days} days "
        f"({config.start_date} to {config.end_date}), seed {config.seed}"
    )
    started = time.perf_counter()
    manifest = seed_world(target, config, show_progress=True)
    elapsed = time.perf_counter() - started
    counts = manifest["counts"]
    rows = counts["table_rows_written"]
    print(
        f"{counts['events']:,} events through the SDK, {rows['shared_users']:,} users, "
        f"{rows['shared_entitlements']:,} entitlements, {rows['shared_assets']:,} assets "
        f"in {elapsed:.1f}s"
    )
    stripe = counts["stripe"]
    print(
        f"payloads in {config.out_dir}: {counts['meta_insights_rows']:,} Meta insights rows, "
        f"{counts['tiktok_report_rows']:,} TikTok report rows, {counts['tiktok_videos']} videos, "
        f"{stripe['charges']:,} Stripe charges, {stripe['events']:,} Stripe events"
    )
    print(f"deliberate faults: {len(manifest['faults'])} (see {config.out_dir}/manifest.json)")
    print(f"warehouse: {target.redacted()}")


def step(message: str) -> None:
    print(f"\n==> {message}", flush=True)


def run_demo(
    target: WarehouseTarget, *, users: int, days: int, out: str | Path, report: str | Path
) -> None:
    """The whole pipeline on a fresh sample world of `users` people over `days` days ending
    yesterday, its payloads in `out` and the dashboard report in `report`; raises `DemoFailed`
    when an asset or check failed (after printing everything)."""
    started = time.monotonic()
    if target.backend == "duckdb" and target.duckdb_path != ":memory:":
        for path in (Path(target.duckdb_path or ""), Path(f"{target.duckdb_path}.wal")):
            path.unlink(missing_ok=True)
        step(f"fresh embedded warehouse {target.duckdb_path}")

    config = WorldConfig(
        users=users, days=days, end_date=yesterday_utc(), out_dir=Path(out).resolve()
    )
    step(f"seeding the sample world: {config.users:,} people over {config.days} days")
    seed_world(target, config, show_progress=True)

    step("running every asset and check through Dagster (sample API resources)")
    report_path = Path(report).resolve()
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
