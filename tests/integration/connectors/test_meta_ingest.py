"""Meta connector against a fake Graph API, on DuckDB and PostgreSQL."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from fakes import (
    FakeClock,
    FakeMeta,
    crash,
    fixture,
    meta_row,
    payload,
    query,
    raw_snapshot,
    status,
)

from ingest._common.errors import MalformedPage
from ingest._common.secrets import Secret
from ingest.meta import MetaConfig, ingest_meta

ACCOUNT = "act_1023847561209384"
DAYS = [date(2024, 5, 1) + timedelta(days=i) for i in range(5)]
TOKEN = "meta-secret-token"


def config(**overrides: object) -> MetaConfig:
    values: dict[str, object] = {
        "access_token": Secret(TOKEN),
        "ad_account_ids": (ACCOUNT,),
        "base_url": FakeMeta.base,
        "initial_days": 5,
    }
    values.update(overrides)
    return MetaConfig(**values)  # type: ignore[arg-type]


def clock() -> FakeClock:
    return FakeClock(datetime(2024, 5, 5, 12, 0, tzinfo=UTC))


def world(ads: int = 2) -> FakeMeta:
    insights = [
        meta_row(ACCOUNT, ad, day, spend=f"{ad}.{day.day}0") for day in DAYS for ad in range(ads)
    ]
    ad_objects = fixture("meta/ads.json")["data"]
    return FakeMeta(insights, ad_objects, page_size=2)


def insights_table(warehouse) -> list[tuple[str, date, str]]:
    rows = query(warehouse, "select ad_id, date_start, payload from raw_meta.ads_insights")
    return sorted((ad, day, payload(p)["spend"]) for ad, day, p in rows)


def test_multi_page_load_is_complete_and_rerun_changes_nothing(warehouse, writer) -> None:
    api = world()
    results = ingest_meta(config(), writer, clock=clock(), transport=api.transport())
    insights_requests = [r for r in api.requests if r.url.path.endswith("/insights")]
    assert len(insights_requests) == 5  # 10 rows, 2 per page
    assert len(insights_table(warehouse)) == 10
    assert results[0].rows == 10 and results[1].rows == 5
    statuses = query(warehouse, "select effective_status from raw_meta.ads order by 1")
    assert [s for (s,) in statuses] == sorted(
        ["ACTIVE", "PAUSED", "WITH_ISSUES", "CAMPAIGN_PAUSED", "ARCHIVED"]
    )
    updated = query(
        warehouse,
        "select updated_time from raw_meta.ads where ad_id = '120201876543210042'",
    )[0][0]
    assert updated == datetime(2023, 11, 15, 3, 26, 8, tzinfo=UTC)  # -0800 parsed
    cursor = query(warehouse, "select cursor_value from raw_meta._sync_state")
    assert cursor == [("2024-05-05",)]

    before = raw_snapshot(warehouse, "raw_meta")
    ingest_meta(config(), writer, clock=clock(), transport=world().transport())
    assert raw_snapshot(warehouse, "raw_meta") == before


def test_restated_day_replaces_the_old_value(warehouse, writer) -> None:
    ingest_meta(config(), writer, clock=clock(), transport=world().transport())
    api = world()
    api.insights[0]["spend"] = "99.99"  # restated day, same key
    dropped = api.insights.pop()  # a row the API no longer returns for a day in the window
    ingest_meta(config(), writer, clock=clock(), transport=api.transport())
    rows = insights_table(warehouse)
    assert len(rows) == 9
    first = api.insights[0]
    assert (first["ad_id"], date.fromisoformat(first["date_start"]), "99.99") in rows
    assert [r for r in rows if r[0] == first["ad_id"] and r[1] == DAYS[0]] == [
        (first["ad_id"], DAYS[0], "99.99")
    ]
    assert dropped["ad_id"] not in {r[0] for r in rows if r[1] == DAYS[-1]}


def test_throttle_error_waits_as_long_as_meta_says(warehouse, writer) -> None:
    api = world()
    throttled = fixture("meta/headers.json")["throttled_example"]["headers"]
    api.faults[2] = status(400, fixture("meta/rate_limit_error.json"), throttled)
    fake_clock = clock()
    ingest_meta(config(), writer, clock=fake_clock, transport=api.transport())
    assert fake_clock.sleeps[0] == 23 * 60  # estimated_time_to_regain_access is in minutes
    assert len(insights_table(warehouse)) == 10


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80000, 80014])
def test_every_throttle_code_is_waited_out(warehouse, writer, code: int) -> None:
    api = world()
    body = {
        "error": {
            "message": "(#17) User request limit reached",
            "type": "OAuthException",
            "code": code,
            "is_transient": False,
            "fbtrace_id": "x",
        }
    }
    api.faults[1] = status(400, body)
    fake_clock = clock()
    ingest_meta(config(pause_seconds=120), writer, clock=fake_clock, transport=api.transport())
    assert fake_clock.sleeps == [120]
    assert len(insights_table(warehouse)) == 10


def test_usage_header_at_95_percent_pauses_before_the_next_call(warehouse, writer) -> None:
    api = world()
    api.headers = {
        "X-Business-Use-Case-Usage": json.dumps(
            {
                "1023847561209384": [
                    {
                        "type": "ads_insights",
                        "call_count": 95,
                        "total_cputime": 20,
                        "total_time": 20,
                        "estimated_time_to_regain_access": 0,
                    }
                ]
            }
        ),
        "X-Ad-Account-Usage": json.dumps({"acc_id_util_pct": 10, "reset_time_duration": 240}),
    }
    fake_clock = clock()
    ingest_meta(config(), writer, clock=fake_clock, transport=api.transport())
    assert fake_clock.sleeps and set(fake_clock.sleeps) == {240}  # one pause after every call
    assert len(fake_clock.sleeps) == len(api.requests)
    assert len(insights_table(warehouse)) == 10


def test_server_error_on_page_3_of_5_is_retried(warehouse, writer) -> None:
    api = world()
    api.faults[3] = status(500, {"error": {"message": "An unknown error occurred", "code": 1}})
    fake_clock = clock()
    ingest_meta(config(), writer, clock=fake_clock, transport=api.transport())
    assert len(fake_clock.sleeps) == 1 and 0.5 <= fake_clock.sleeps[0] <= 1.0
    rows = insights_table(warehouse)
    assert len(rows) == 10 == len(set(rows))


def test_crash_after_page_3_resumes_without_gaps_or_duplicates(warehouse, writer) -> None:
    api = world()
    api.faults[4] = crash
    with pytest.raises(RuntimeError, match="injected crash"):
        ingest_meta(config(window_days=1), writer, clock=clock(), transport=api.transport())
    assert {day for _, day, _ in insights_table(warehouse)} == set(DAYS[:3])
    assert query(warehouse, "select cursor_value from raw_meta._sync_state") == [("2024-05-03",)]
    ingest_meta(
        config(window_days=1, lookback_days=1), writer, clock=clock(), transport=world().transport()
    )
    rows = insights_table(warehouse)
    assert len(rows) == 10 and {day for _, day, _ in rows} == set(DAYS)


def test_malformed_page_fails_naming_page_and_field_and_writes_nothing_of_it(
    warehouse, writer
) -> None:
    api = world()
    api.faults[2] = status(200, {"data": [{"ad_id": "1", "account_id": "1"}], "paging": {}})
    with pytest.raises(
        MalformedPage,
        match=r"insights act_1023847561209384 .* page 2: field 'data\[0\]\.date_start' is missing",
    ):
        ingest_meta(config(), writer, clock=clock(), transport=api.transport())
    assert insights_table(warehouse) == []
    api = world()
    api.faults[1] = status(200, {"paging": {}})
    with pytest.raises(MalformedPage, match="page 1: field 'data' is missing"):
        ingest_meta(config(), writer, clock=clock(), transport=api.transport())
    api = world()
    bad = meta_row(ACCOUNT, 0, DAYS[0])
    bad["spend"] = {"amount": 1}
    api.faults[1] = status(200, {"data": [bad], "paging": {}})
    with pytest.raises(MalformedPage, match=r"field 'data\[0\]\.spend' should be a number"):
        ingest_meta(config(), writer, clock=clock(), transport=api.transport())
    assert insights_table(warehouse) == []


def test_access_token_never_reaches_logs_or_errors(warehouse, writer, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="ingest")
    api = world()
    api.faults[2] = status(500)
    api.faults[3] = status(400, {"error": {"message": f"bad token {TOKEN}", "code": 190}})
    with pytest.raises(Exception) as failure:
        ingest_meta(config(), writer, clock=clock(), transport=api.transport())
    assert TOKEN not in str(failure.value)
    assert caplog.records and all(TOKEN not in r.getMessage() for r in caplog.records)
    assert "access_token=***" in caplog.text
    assert TOKEN not in repr(config())


def test_insights_requests_carry_the_contract_parameters(warehouse, writer) -> None:
    api = world()
    ingest_meta(config(), writer, clock=clock(), transport=api.transport())
    first = api.requests[0]
    params = dict(httpx.QueryParams(first.url.query))
    assert json.loads(params["time_range"]) == {"since": "2024-05-01", "until": "2024-05-05"}
    assert "ad_id" in params["fields"] and "action_values" in params["fields"]
    assert "DELETED" in params["filtering"] and "ARCHIVED" in params["filtering"]
    assert dict(httpx.QueryParams(api.requests[1].url.query))["after"] == "2"
