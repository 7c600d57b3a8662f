"""Daily partitions of the ad platforms' reports, and which days a run or a schedule covers.

One partition is one report day (the platform's account-local day, as the APIs key it). A run
of a partition range pulls exactly those days, with explicit start and end, so the connector
adds no restatement of its own: the restatement window is a range of partitions that the daily
schedule requests (Meta 28 days, TikTok 7). A backfill over the same days therefore never
pulls a day twice, and every partition a run re-pulled shows as materialized by it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

import dagster as dg

from ingest._common.windows import DateWindow

PARTITIONS_START = date(2024, 1, 1)
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"

# Partition keys are UTC dates; the last partition is the last complete UTC day (end_offset 0).
daily_partitions = dg.DailyPartitionsDefinition(
    start_date=PARTITIONS_START.isoformat(), timezone="UTC", fmt="%Y-%m-%d"
)


def run_days(window: dg.TimeWindow) -> DateWindow:
    """The report days of a partition time window (its end is exclusive)."""
    first = window.start.date()
    last = (window.end - timedelta(days=1)).date()
    return DateWindow(first, max(first, last))


def restatement_days(tick: datetime, lookback_days: int) -> DateWindow:
    """The days a daily run at `tick` re-pulls: the `lookback_days` complete days before the
    tick's UTC date (the platform restates them), never before the first partition."""
    last = tick.date() - timedelta(days=1)
    first = max(PARTITIONS_START, last - timedelta(days=max(lookback_days, 1) - 1))
    return DateWindow(first, last)


def range_tags(days: DateWindow) -> dict[str, str]:
    """Run tags that make one run materialize every partition of `days`."""
    return {RANGE_START_TAG: days.since.isoformat(), RANGE_END_TAG: days.until.isoformat()}


def tagged_days(tags: Mapping[str, str]) -> DateWindow | None:
    """The partition days a run covers, read from its tags (None for an unpartitioned run)."""
    if RANGE_START_TAG in tags and RANGE_END_TAG in tags:
        return DateWindow(
            date.fromisoformat(tags[RANGE_START_TAG]), date.fromisoformat(tags[RANGE_END_TAG])
        )
    if PARTITION_TAG in tags:
        day = date.fromisoformat(tags[PARTITION_TAG])
        return DateWindow(day, day)
    return None
