"""TikTok connector against fake Business and Display APIs, on DuckDB and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fakes import (
    FakeClock,
    FakeTikTok,
    crash,
    fixture,
    payload,
    query,
    raw_snapshot,
    status,
    tiktok_ad,
    tiktok_envelope,
    tiktok_row,
)

from ingest._common.errors import ApiError, MalformedPage
from ingest._common.secrets import Secret
from ingest.tiktok import TikTokConfig, ingest_tiktok

ADVERTISER = "7000000000000000001"
DAYS = [date(2024, 5, 1) + timedelta(days=i) for i in range(5)]


def config(**overrides: object) -> TikTokConfig:
    values: dict[str, object] = {
        "access_token": Secret("tiktok-secret"),
        "advertiser_ids": (ADVERTISER,),
        "display_access_token": Secret("display-secret"),
        "base_url": FakeTikTok.base,
        "display_base_url": FakeTikTok.display_base,
        "initial_days": 5,
    }
    values.update(overrides)
    return TikTokConfig(**values)  # type: ignore[arg-type]


def clock() -> FakeClock:
    return FakeClock(datetime(2024, 5, 5, 12, 0, tzinfo=UTC))


def world() -> FakeTikTok:
    rows = [tiktok_row(ad, day, spend=f"{ad}.{day.day}00") for day in DAYS for ad in range(2)]
    return FakeTikTok(rows, [tiktok_ad(0), tiktok_ad(1, "DISABLE")])


def reports(warehouse) -> list[tuple[str, date, str]]:
    rows = query(warehouse, "select ad_id, stat_time_day, payload from raw_tiktok.ad_reports")
    return sorted((ad, day, payload(p)["metrics"]["spend"]) for ad, day, p in rows)


def test_pages_load_completely_and_rerun_changes_nothing(warehouse, writer) -> None:
    api = world()
    ingest_tiktok(config(), writer, clock=clock(), transport=api.transport())
    assert len(reports(warehouse)) == 10
    assert {day for _, day, _ in reports(warehouse)} == set(DAYS)  # "YYYY-MM-DD 00:00:00" -> date
    assert query(warehouse, "select operation_status from raw_tiktok.ads order by 1") == [
        ("DISABLE",),
        ("ENABLE",),
    ]
    videos = query(
        warehouse, "select video_id, fetched_at, payload from raw_tiktok.video_snapshots"
    )
    assert len(videos) == 5
    assert {fetched for _, fetched, _ in videos} == {datetime(2024, 5, 5, 12, 0, tzinfo=UTC)}
    before = raw_snapshot(warehouse, "raw_tiktok")
    ingest_tiktok(config(), writer, clock=clock(), transport=world().transport())
    assert raw_snapshot(warehouse, "raw_tiktok") == before


def test_each_run_adds_a_video_snapshot_and_status_changes_are_kept(warehouse, writer) -> None:
    ingest_tiktok(config(), writer, clock=clock(), transport=world().transport())
    api = world()
    api.ads[0] = tiktok_ad(0, "DISABLE", modified="2024-05-06 08:00:00")
    api.videos[0] = {**api.videos[0], "view_count": api.videos[0]["view_count"] + 100}
    later = FakeClock(datetime(2024, 5, 6, 12, 0, tzinfo=UTC))
    ingest_tiktok(config(), writer, clock=later, transport=api.transport())
    assert query(warehouse, "select count(*) from raw_tiktok.video_snapshots") == [(10,)]
    history = query(
        warehouse,
        "select operation_status from raw_tiktok.ads where ad_id = '7358201946600000' "
        "order by modify_time",
    )
    assert history == [("ENABLE",), ("DISABLE",)]


def test_restated_day_replaces_the_old_value(warehouse, writer) -> None:
    ingest_tiktok(config(), writer, clock=clock(), transport=world().transport())
    api = world()
    api.rows[-1]["metrics"]["spend"] = "77.700"
    ingest_tiktok(config(), writer, clock=clock(), transport=api.transport())
    rows = reports(warehouse)
    assert len(rows) == 10
    key = api.rows[-1]["dimensions"]["ad_id"]
    assert [r for r in rows if r[0] == key and r[1] == DAYS[-1]] == [(key, DAYS[-1], "77.700")]


def test_http_200_with_code_40100_waits_then_completes(warehouse, writer) -> None:
    api = world()
    api.faults[2] = status(200, fixture("tiktok/rate_limit_error.json"))
    fake_clock = clock()
    ingest_tiktok(config(), writer, clock=fake_clock, transport=api.transport())
    assert fake_clock.sleeps == [300.0]
    assert len(reports(warehouse)) == 10


def test_other_nonzero_codes_are_errors(warehouse, writer) -> None:
    api = world()
    api.faults[1] = status(200, tiktok_envelope({}, code=40105, message="Access token is invalid"))
    with pytest.raises(ApiError, match="code 40105"):
        ingest_tiktok(config(), writer, clock=clock(), transport=api.transport())
    assert reports(warehouse) == []


def test_server_error_on_page_3_of_5_then_success(warehouse, writer) -> None:
    api = world()
    api.faults[3] = status(200, tiktok_envelope({}, code=50000, message="System error."))
    fake_clock = clock()
    ingest_tiktok(config(), writer, clock=fake_clock, transport=api.transport())
    assert len(fake_clock.sleeps) == 1
    rows = reports(warehouse)
    assert len(rows) == 10 == len(set(rows))


def test_crash_after_page_3_resumes(warehouse, writer) -> None:
    api = world()
    api.faults[4] = crash
    with pytest.raises(RuntimeError):
        ingest_tiktok(config(window_days=1), writer, clock=clock(), transport=api.transport())
    assert {day for _, day, _ in reports(warehouse)} == set(DAYS[:3])
    ingest_tiktok(
        config(window_days=1, lookback_days=1), writer, clock=clock(), transport=world().transport()
    )
    rows = reports(warehouse)
    assert len(rows) == 10 and {day for _, day, _ in rows} == set(DAYS)


def test_malformed_page_names_page_and_field(warehouse, writer) -> None:
    api = world()
    bad = tiktok_row(0, DAYS[0])
    del bad["dimensions"]["stat_time_day"]
    page = {
        "list": [bad],
        "page_info": {"page": 2, "page_size": 2, "total_number": 10, "total_page": 5},
    }
    api.faults[2] = status(200, tiktok_envelope(page))
    with pytest.raises(
        MalformedPage, match=r"page 2: field 'data.list\[0\].dimensions.stat_time_day' is missing"
    ):
        ingest_tiktok(config(), writer, clock=clock(), transport=api.transport())
    assert reports(warehouse) == []
    api = world()
    api.faults[1] = status(200, tiktok_envelope({"list": [], "page_info": {"total_page": "5"}}))
    with pytest.raises(
        MalformedPage, match=r"field 'data.page_info.total_page' should be an integer"
    ):
        ingest_tiktok(config(), writer, clock=clock(), transport=api.transport())


def test_display_api_429_is_waited_out(warehouse, writer) -> None:
    api = world()
    # reports (5 pages) and ads (1 page) come first; then the first video page is throttled
    api.faults[7] = status(429, {"error": {"code": "rate_limit_exceeded"}}, {"Retry-After": "60"})
    fake_clock = clock()
    ingest_tiktok(config(), writer, clock=fake_clock, transport=api.transport())
    assert fake_clock.sleeps == [60.0]
    assert query(warehouse, "select count(*) from raw_tiktok.video_snapshots") == [(5,)]
