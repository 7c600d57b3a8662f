"""Which days a run covers, what the daily schedules request, and the freshness rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pytest

from ingest._common.windows import DateWindow
from orchestration.defs.dbt.assets import dbt_build_hourly
from orchestration.defs.ingest.checks import known_currencies
from orchestration.defs.ingest.schedules import (
    meta_daily_schedule,
    stripe_schedule,
    tiktok_daily_schedule,
    tiktok_videos_schedule,
)
from orchestration.defs.partitions import (
    PARTITIONS_START,
    daily_partitions,
    dbt_window_vars,
    range_tags,
    received_day_partitions,
    received_days,
    restatement_days,
    run_days,
    tagged_days,
)
from orchestration.defs.shared import (
    SHARED_TABLES,
    freshness_outcome,
    freshness_verdict,
    shared_freshness,
)


def test_a_partition_covers_its_own_day_only() -> None:
    window = daily_partitions.time_window_for_partition_key("2024-06-03")
    assert run_days(window) == DateWindow(date(2024, 6, 3), date(2024, 6, 3))


def test_a_partition_range_covers_every_day_from_first_to_last() -> None:
    first = daily_partitions.time_window_for_partition_key("2024-06-01")
    last = daily_partitions.time_window_for_partition_key("2024-06-28")
    assert run_days(dg.TimeWindow(first.start, last.end)) == DateWindow(
        date(2024, 6, 1), date(2024, 6, 28)
    )


def test_the_last_partition_is_the_last_complete_utc_day() -> None:
    now = datetime(2024, 6, 10, 0, 30, tzinfo=UTC)
    keys = daily_partitions.get_partition_keys(current_time=now)
    assert keys[0] == PARTITIONS_START.isoformat()
    assert keys[-1] == "2024-06-09"


def test_the_last_received_day_partition_is_today_still_in_progress() -> None:
    now = datetime(2024, 6, 10, 0, 30, tzinfo=UTC)
    keys = received_day_partitions.get_partition_keys(current_time=now)
    assert keys[0] == PARTITIONS_START.isoformat()
    assert keys[-1] == "2024-06-10"


@pytest.mark.parametrize(
    ("tick", "expected"),
    [
        # Within three hours of midnight: yesterday's events may still be committing.
        (datetime(2024, 6, 10, 0, 15, tzinfo=UTC), DateWindow(date(2024, 6, 9), date(2024, 6, 10))),
        (datetime(2024, 6, 10, 2, 59, tzinfo=UTC), DateWindow(date(2024, 6, 9), date(2024, 6, 10))),
        (datetime(2024, 6, 10, 3, 0, tzinfo=UTC), DateWindow(date(2024, 6, 10), date(2024, 6, 10))),
        (
            datetime(2024, 6, 10, 23, 15, tzinfo=UTC),
            DateWindow(date(2024, 6, 10), date(2024, 6, 10)),
        ),
        (datetime(2024, 1, 1, 0, 15, tzinfo=UTC), DateWindow(PARTITIONS_START, PARTITIONS_START)),
    ],
)
def test_received_days_are_today_and_yesterday_just_after_midnight(
    tick: datetime, expected: DateWindow
) -> None:
    assert received_days(tick) == expected


def test_the_hourly_dbt_build_covers_the_received_days_of_its_tick() -> None:
    assert dbt_build_hourly.cron_schedule == "15 * * * *"
    tick = datetime(2024, 6, 10, 0, 15, tzinfo=UTC)
    context = dg.build_schedule_context(scheduled_execution_time=tick)
    [request] = list(dbt_build_hourly.evaluate_tick(context).run_requests or [])
    assert tagged_days(request.tags) == DateWindow(date(2024, 6, 9), date(2024, 6, 10))
    # Every tick launches a run: a run_key would make the hours of one day collapse into one.
    assert request.run_key is None


def test_the_dbt_vars_of_a_partition_window_are_its_utc_bounds() -> None:
    first = received_day_partitions.time_window_for_partition_key("2024-06-09")
    last = received_day_partitions.time_window_for_partition_key("2024-06-10")
    assert dbt_window_vars(dg.TimeWindow(first.start, last.end)) == {
        "events_received_from": "2024-06-09T00:00:00+00:00",
        "events_received_until": "2024-06-11T00:00:00+00:00",
    }


@pytest.mark.parametrize(
    ("tick", "lookback", "expected"),
    [
        (
            datetime(2024, 6, 29, 11, tzinfo=UTC),
            28,
            DateWindow(date(2024, 6, 1), date(2024, 6, 28)),
        ),
        (
            datetime(2024, 6, 29, 11, tzinfo=UTC),
            7,
            DateWindow(date(2024, 6, 22), date(2024, 6, 28)),
        ),
        (datetime(2024, 1, 3, 11, tzinfo=UTC), 28, DateWindow(PARTITIONS_START, date(2024, 1, 2))),
    ],
)
def test_restatement_days_end_yesterday_and_never_precede_the_first_partition(
    tick: datetime, lookback: int, expected: DateWindow
) -> None:
    assert restatement_days(tick, lookback) == expected


def test_run_tags_round_trip_to_the_days_they_cover() -> None:
    days = DateWindow(date(2024, 6, 1), date(2024, 6, 28))
    assert tagged_days(range_tags(days)) == days
    assert tagged_days({"dagster/partition": "2024-06-05"}) == DateWindow(
        date(2024, 6, 5), date(2024, 6, 5)
    )
    assert tagged_days({"other": "x"}) is None


@pytest.mark.parametrize(
    ("schedule", "days"), [(meta_daily_schedule, 28), (tiktok_daily_schedule, 7)]
)
def test_daily_schedules_request_one_run_over_the_restatement_window(
    schedule: dg.ScheduleDefinition, days: int
) -> None:
    tick = datetime(2024, 6, 29, 11, tzinfo=UTC)
    context = dg.build_schedule_context(scheduled_execution_time=tick)
    requests = list(schedule.evaluate_tick(context).run_requests or [])
    assert len(requests) == 1
    covered = tagged_days(requests[0].tags)
    assert covered == DateWindow(date(2024, 6, 28) - timedelta(days=days - 1), date(2024, 6, 28))
    # The same tick twice is one run (run_key), so a retried tick never pulls twice.
    assert requests[0].run_key == f"{covered.since}..{covered.until}"


def test_schedules_run_daily_after_the_day_closes_and_snapshots_several_times_a_day() -> None:
    assert meta_daily_schedule.cron_schedule == "0 11 * * *"
    assert tiktok_daily_schedule.cron_schedule == "30 11 * * *"
    assert tiktok_videos_schedule.cron_schedule == "20 */6 * * *"
    assert stripe_schedule.cron_schedule == "5 */3 * * *"
    assert {s.execution_timezone for s in (meta_daily_schedule, stripe_schedule)} == {"UTC"}


def test_freshness_verdict() -> None:
    now = datetime(2024, 6, 10, 12, tzinfo=UTC)
    assert freshness_verdict(now - timedelta(hours=2), now, timedelta(hours=24)) is None
    stale = freshness_verdict(now - timedelta(hours=30), now, timedelta(hours=24))
    assert stale == "newest row is 30.0h old (allowed 24.0h)"
    assert freshness_verdict(None, now, timedelta(hours=24)) == "the table is empty"


def test_freshness_rules_come_from_the_dbt_sources() -> None:
    rules = {spec.table: spec for spec in SHARED_TABLES}
    assert set(rules) == {"shared_events", "shared_users", "shared_entitlements", "shared_assets"}
    events = rules["shared_events"]
    assert (events.column, events.error_after) == ("received_at", timedelta(hours=24))
    assert rules["shared_users"].error_after is None
    assert rules["shared_users"].warn_after == timedelta(days=7)
    manifest = {
        "sources": {
            "source.p.shared.t": {
                "source_name": "shared",
                "name": "t",
                "loaded_at_field": "created_at",
                "freshness": {"warn_after": {"count": None, "period": None}},
            }
        }
    }
    with pytest.raises(ValueError, match=r"shared\.t declares no"):
        shared_freshness(manifest)


def test_freshness_outcome_takes_the_severity_of_the_age_exceeded() -> None:
    (events,) = [spec for spec in SHARED_TABLES if spec.table == "shared_events"]
    now = datetime(2024, 6, 10, 12, tzinfo=UTC)
    assert freshness_outcome(events, now - timedelta(hours=2), now)[0] is None
    problem, severity = freshness_outcome(events, now - timedelta(hours=7), now)
    assert (problem, severity) == (
        "newest row is 7.0h old (allowed 6.0h)",
        dg.AssetCheckSeverity.WARN,
    )
    problem, severity = freshness_outcome(events, now - timedelta(hours=30), now)
    assert (problem, severity) == (
        "newest row is 30.0h old (allowed 24.0h)",
        dg.AssetCheckSeverity.ERROR,
    )


def test_known_currencies_are_iso_4217_upper_case() -> None:
    assert {"USD", "EUR", "JPY", "KWD"} <= set(known_currencies())
    assert "usd" not in known_currencies()
    assert "XYZ" not in known_currencies()
