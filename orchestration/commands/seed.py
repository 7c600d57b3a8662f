"""`seed`: write the deterministic sample world (docs/REFERENCE.md, Commands) into the warehouse and to disk.

Product tables go straight to the warehouse, events through the tracking SDK (as the
products send them), and the ad and billing platforms' API payloads to `--out` for the sample
transport (`ingest.world.server`) to serve to the real connectors.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from acd_analytics.warehouse_url import WarehouseTarget

from ingest.world.config import WorldConfig, yesterday_utc
from ingest.world.events import SdkEventWriter
from ingest.world.generate import generate_world
from ingest.world.warehouse import TableWriter
from orchestration.commands import Subcommands
from warehouse_db.migrations import migrate


class SeedError(RuntimeError):
    """The sample world could not be written completely."""


ERRORS: tuple[type[Exception], ...] = (SeedError,)

SDK_BATCH_SIZE = 20_000
SDK_MAX_QUEUE_SIZE = 200_000


def _end_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from exc


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def world_config(args: argparse.Namespace) -> WorldConfig:
    return WorldConfig(
        users=args.users,
        days=args.days,
        seed=args.seed,
        end_date=args.end_date or yesterday_utc(),
        out_dir=Path(args.out) if args.out else Path.cwd() / "sample_world",
    )


def seed_world(
    target: WarehouseTarget,
    config: WorldConfig,
    *,
    spool_dir: Path | None = None,
    show_progress: bool = False,
) -> dict[str, Any]:
    """Migrate, generate the world of `config` into `target` and to disk; returns the manifest.

    Events go through `acd_analytics.Client` with a spool directory inside the output folder
    (not the user's cache), and are flushed before returning; anything undelivered raises.
    """
    from acd_analytics import Client

    migrate(target)
    spool = spool_dir or config.out_dir / ".spool"
    errors: list[str] = []

    def on_error(exc: BaseException, count: int) -> None:
        errors.append(f"{type(exc).__name__}: {exc}")

    def progress(done: int, total: int) -> None:
        if show_progress:
            print(f"  people {done:,}/{total:,}", file=sys.stderr, flush=True)

    client = Client(
        target.url,
        batch_size=SDK_BATCH_SIZE,
        max_queue_size=SDK_MAX_QUEUE_SIZE,
        spool_dir=spool,
        on_error=on_error,
    )
    try:
        with TableWriter(target) as tables:
            manifest = generate_world(
                config, events=SdkEventWriter(client), tables=tables, progress=progress
            )
        delivered = client.flush(timeout=None)
        stats = client.stats()
    finally:
        client.shutdown()
    if not delivered or stats.get("dropped"):
        detail = errors[-1] if errors else stats.get("last_error") or "unknown reason"
        raise SeedError(
            f"the SDK did not deliver every event ({stats.get('delivered')} of "
            f"{manifest['counts']['events']}): {detail}; they remain in {spool} and are "
            "replayed by the next client on that spool directory"
        )
    return manifest


def cmd_seed(args: argparse.Namespace, target: WarehouseTarget) -> None:
    config = world_config(args)
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


def register(commands: Subcommands) -> None:
    seed = commands.add_parser(
        "seed",
        help="write the deterministic sample world: warehouse rows, events and API payloads",
    )
    seed.add_argument(
        "--users", type=_positive, default=2000, help="people to simulate (default 2000)"
    )
    seed.add_argument("--days", type=_positive, default=30, help="days to simulate (default 30)")
    seed.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    seed.add_argument(
        "--end-date",
        type=_end_date,
        default=None,
        help="last simulated day, YYYY-MM-DD (default: yesterday, UTC)",
    )
    seed.add_argument(
        "--out",
        default=None,
        help="where the API payloads go (default: sample_world/ under the current directory)",
    )
    seed.set_defaults(handler=cmd_seed)
