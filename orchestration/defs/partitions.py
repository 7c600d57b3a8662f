"""The two daily partitionings, and which days a run or a schedule covers.

Ad reports (`daily_partitions`): one partition is one report day (the platform's account-local
day, as the APIs key it), up to the last complete UTC day. A run of a partition range pulls
exactly those days, with explicit start and end, so the connector adds no restatement of its
own: the restatement window is a range of partitions that the daily schedule requests (Meta 28
days, TikTok 7). A backfill over the same days therefore never pulls a day twice, and every
partition a run re-pulled shows as materialized by it.

Events (`received_day_partitions`): one partition is the events the warehouse received on one
UTC day (`shared_events.received_at`, stamped by the database, so an event never changes day),
up to today, still in progress: the hourly dbt run refreshes it. The dbt models tagged
`partitioned` (`fct_events`) take the run's window as vars and rebuild exactly its events.
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
# The same keys, up to today (end_offset 1): events keep arriving all day.
received_day_partitions = dg.DailyPartitionsDefinition(
    start_date=PARTITIONS_START.isoformat(), timezone="UTC", fmt="%Y-%m-%d", end_offset=1
)
# How long after its received_at an event may still become visible (its insert's transaction
# commits): an hourly run this soon after midnight refreshes the previous day too.
RECEIVED_SETTLE = timedelta(hours=3)


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


def received_days(tick: datetime) -> DateWindow:
    """The received-day partitions an hourly dbt run at `tick` refreshes: today's, and also
    yesterday's until RECEIVED_SETTLE after midnight (events committed late in its last hour)."""
    return DateWindow(max(PARTITIONS_START, (tick - RECEIVED_SETTLE).date()), tick.date())


def dbt_window_vars(window: dg.TimeWindow) -> dict[str, str]:
    """The dbt vars of a partition time window, for the models tagged `partitioned`."""
    return {
        "events_received_from": window.start.isoformat(),
        "events_received_until": window.end.isoformat(),
    }


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
