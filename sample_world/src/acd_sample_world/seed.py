"""The warehouse seeding: a sample world's product tables, events and API payloads, in one call.

    manifest = seed_world(target, WorldConfig(users=2000, days=30))

Product tables go straight to the warehouse (`warehouse.TableWriter`), events through the
tracking SDK (as the products send them), and the ad and billing platforms' API payloads to
`config.out_dir` for the sample transport (`acd_sample_world.fake_apis.server`) to serve to
the real connectors.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from acd_analytics.warehouse_url import WarehouseTarget

from acd_sample_world.config import WorldConfig
from acd_sample_world.events import SdkEventWriter
from acd_sample_world.generate import generate_world
from acd_sample_world.warehouse import TableWriter
from warehouse_db.migrations import migrate


class SeedError(RuntimeError):
    """The sample world could not be written completely."""


SDK_BATCH_SIZE = 20_000
SDK_MAX_QUEUE_SIZE = 200_000


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
