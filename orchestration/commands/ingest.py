"""`ingest meta|tiktok|stripe [--start DATE] [--end DATE]`: pull a source into its raw schema."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from datetime import date

from acd_analytics.warehouse_url import WarehouseTarget

from ingest._common.errors import IngestError
from ingest._common.results import StreamResult
from ingest.meta import ingest_meta
from ingest.stripe import ingest_stripe
from ingest.tiktok import ingest_tiktok
from orchestration.commands import Subcommands
from orchestration.settings import (
    InvalidSetting,
    MissingCredentials,
    meta_settings,
    stripe_settings,
    tiktok_settings,
)
from warehouse_db.connection import connect
from warehouse_db.raw_load import RawWriter

ERRORS: tuple[type[Exception], ...] = (MissingCredentials, InvalidSetting, IngestError)
SOURCES = ("meta", "tiktok", "stripe")


def _progress(message: str) -> None:
    print(f"  {message}", flush=True)


def run_ingest(
    source: str,
    target: WarehouseTarget,
    *,
    start: date | None = None,
    end: date | None = None,
    env: Mapping[str, str] | None = None,
) -> list[StreamResult]:
    """Build the source's settings from the environment and run it against `target`."""
    if start and end and start > end:
        raise InvalidSetting(f"--start {start} is after --end {end}")
    with connect(target) as conn:
        writer = RawWriter(conn, target.backend)
        if source == "meta":
            return ingest_meta(meta_settings(env), writer, start=start, end=end, progress=_progress)
        if source == "tiktok":
            config = tiktok_settings(env)
            if config.display_access_token is None:
                _progress("TIKTOK_DISPLAY_ACCESS_TOKEN is not set: organic videos skipped")
            return ingest_tiktok(config, writer, start=start, end=end, progress=_progress)
        if source == "stripe":
            if start or end:
                _progress("--start/--end do not apply to stripe (full sync, then events)")
            return ingest_stripe(stripe_settings(env), writer, progress=_progress)
    raise InvalidSetting(f"unknown source {source!r}: use one of {', '.join(SOURCES)}")


def cmd_ingest(args: argparse.Namespace, target: WarehouseTarget) -> None:
    print(f"ingest {args.source} into {target.redacted()}", flush=True)
    results = run_ingest(args.source, target, start=args.start, end=args.end)
    for result in results:
        print(result)
    total = sum(r.written for r in results)
    print(f"ingest {args.source}: done, {total} raw rows inserted, changed or removed")
    sys.stdout.flush()


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def register(commands: Subcommands) -> None:
    parser = commands.add_parser(
        "ingest", help="pull meta, tiktok or stripe into its raw schema (raw_meta, …)"
    )
    parser.add_argument("source", choices=SOURCES, help="the source to pull")
    parser.add_argument(
        "--start", type=_date, help="first day to pull (default: cursor or restatement lookback)"
    )
    parser.add_argument("--end", type=_date, help="last day to pull (default: today)")
    parser.set_defaults(handler=cmd_ingest)
