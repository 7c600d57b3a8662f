"""Generate one sample world: product tables, product events and the platforms' payloads.

`generate_world(config, events=…, tables=…)` runs the whole simulation as a stream: the ad
catalogue and Stripe catalogue first (small, in memory), then one person at a time, then the
payload files and `manifest.json`. The same `WorldConfig` always gives the same rows, ids
and payload bytes; nothing reads the clock or the environment.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol

from acd_sample_world.ads import build_ad_world, staff_events
from acd_sample_world.billing import build_catalog
from acd_sample_world.config import PRODUCTS, WorldConfig
from acd_sample_world.events import CountingEventWriter, EventWriter, WorldEvent
from acd_sample_world.organic import build_videos, video_events
from acd_sample_world.payloads import write_ad_payloads, write_videos
from acd_sample_world.people import PersonSimulation, Sinks
from acd_sample_world.store import StripeStore, WorldFiles, dumps

FORMAT_VERSION = 1
API_PREFIXES = {
    "meta": "/meta/v21.0",
    "tiktok": "/tiktok/open_api/v1.3",
    "tiktok_display": "/tiktok-display/v2",
    "stripe": "/stripe",
}


class TableSink(Protocol):
    def add(self, table: str, row: dict[str, Any]) -> None: ...


class ListTableSink:
    """Keeps table rows in memory (tests, dry runs); the last row per id wins."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, dict[str, Any]]] = {}

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.rows.setdefault(table, {})[row["id"]] = row


class _CountingEvents:
    def __init__(self, inner: EventWriter) -> None:
        self.inner = inner
        self.counter = CountingEventWriter()

    def write(self, event: WorldEvent) -> None:
        self.inner.write(event)
        self.counter.write(event)


def clear_world(files: WorldFiles) -> None:
    """Remove a previous world's payloads (only the files this generator writes)."""
    for name in ("meta", "tiktok", "tiktok-display", "stripe"):
        shutil.rmtree(files.root / name, ignore_errors=True)
    files.manifest.unlink(missing_ok=True)


def generate_world(
    config: WorldConfig,
    *,
    events: EventWriter,
    tables: TableSink,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Simulate the world of `config`; returns the manifest (also written to disk)."""
    files = WorldFiles(config.out_dir)
    clear_world(files)
    files.root.mkdir(parents=True, exist_ok=True)
    counted = _CountingEvents(events)
    table_counts: dict[str, int] = {"shared_users": 0, "shared_entitlements": 0, "shared_assets": 0}

    def add_row(table: str, row: dict[str, Any]) -> None:
        tables.add(table, row)
        table_counts[table] += 1

    ads = build_ad_world(config)
    add_row(
        "shared_users",
        {
            "id": ads.staff_user_id,
            "email": ads.staff_email,
            "display_name": "ACD Growth Team",
            "stripe_customer_id": None,
            "created_at": config.start - timedelta(days=365),
            "updated_at": config.start - timedelta(days=365),
        },
    )
    for asset in ads.assets:
        add_row(
            "shared_assets",
            {
                "id": asset.asset_id,
                "sha256": asset.sha256,
                "kind": asset.kind,
                "source": asset.source,
                "product": asset.product,
                "user_id": ads.staff_user_id,
                "uri": asset.uri,
                "bytes": asset.bytes,
                "created_at": asset.created_at,
                "tags": asset.tags,
            },
        )
    for event in staff_events(config, ads):
        counted.write(event)
    videos = build_videos(config)
    for event in video_events(config, videos, ads.staff_user_id):
        counted.write(event)

    stripe = StripeStore(files)
    catalog = build_catalog(config, stripe.add)
    faults: list[dict[str, Any]] = []
    sinks = Sinks(
        event=counted.write,
        user=lambda row: add_row("shared_users", row),
        entitlement=lambda row: add_row("shared_entitlements", row),
        stripe=stripe.add,
        fault=faults.append,
    )
    for index in range(config.users):
        PersonSimulation(index, config, ads, catalog, sinks).run()
        if progress is not None and (index + 1) % 1000 == 0:
            progress(index + 1, config.users)
    if progress is not None and config.users % 1000:
        progress(config.users, config.users)

    payload_counts = write_ad_payloads(config, files, ads, sinks.ad_conversions)
    write_videos(files, videos)
    stripe.finish()

    manifest: dict[str, Any] = {
        "generator": "acd-warehouse seed",
        "format_version": FORMAT_VERSION,
        "seed": config.seed,
        "users": config.users,
        "days": config.days,
        "start_date": config.start_date.isoformat(),
        "end_date": config.end_date.isoformat(),
        "default_now": config.end.isoformat().replace("+00:00", "Z"),
        "products": list(PRODUCTS),
        "accounts": {
            "meta_ad_account_ids": [f"act_{ads.meta_account_id}"],
            "tiktok_advertiser_ids": [ads.tiktok_advertiser_id],
        },
        "api_prefixes": API_PREFIXES,
        "counts": {
            "events": counted.counter.count,
            "events_by_name": dict(sorted(counted.counter.by_name.items())),
            "table_rows_written": table_counts,
            "stripe": stripe.counts(),
            "meta_ads": sum(1 for ad in ads.ads if ad.platform == "meta"),
            "tiktok_ads": sum(1 for ad in ads.ads if ad.platform == "tiktok"),
            "hooks": len(ads.hooks),
            "assets": len(ads.assets),
            "tiktok_videos": len(videos),
            **payload_counts,
        },
        "faults": faults,
    }
    files.manifest.write_text(dumps(manifest) + "\n", encoding="utf-8")
    return manifest
