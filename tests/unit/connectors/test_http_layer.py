"""The shared HTTP layer: retries, Retry-After, circuit breaker, redaction (no network)."""

from __future__ import annotations

import json
import logging
import random
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from ingest._common.errors import CircuitOpen, RateLimited, RetriesExhausted
from ingest._common.http import CircuitBreaker, HttpClient, Retryable, RetryPolicy
from ingest._common.redact import Redactor, redact_secret_params
from ingest._common.windows import DateWindow, split_windows, sync_range
from ingest.meta.client import parse_usage


class Clock:
    def __init__(self) -> None:
        self.current = datetime(2024, 1, 1, tzinfo=UTC)
        self.mono = 0.0
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.current

    def monotonic(self) -> float:
        return self.mono

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.mono += seconds
        self.current += timedelta(seconds=seconds)


def client(
    answers: list[object], clock: Clock, **kwargs: object
) -> tuple[HttpClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, httpx.Response)
        return answer

    http = HttpClient(
        "test",
        clock=clock,
        transport=httpx.MockTransport(handle),
        rng=random.Random(1),
        secrets=["s3cret-token"],
        **kwargs,  # type: ignore[arg-type]
    )
    return http, seen


def test_retries_5xx_and_connection_errors_with_growing_backoff() -> None:
    clock = Clock()
    answers: list[object] = [
        httpx.ConnectError("refused"),
        httpx.Response(502),
        httpx.Response(503),
        httpx.Response(200, json={"ok": True}),
    ]
    http, seen = client(answers, clock)
    assert http.get_json("https://api.test/x") == {"ok": True}
    assert len(seen) == 4
    assert 0.5 <= clock.sleeps[0] <= 1 and 1 <= clock.sleeps[1] <= 2 and 2 <= clock.sleeps[2] <= 4


def test_retry_after_is_honoured_in_seconds_and_as_a_date() -> None:
    clock = Clock()
    later = (clock.current + timedelta(seconds=90)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    answers: list[object] = [
        httpx.Response(429, headers={"Retry-After": "30"}),
        httpx.Response(429, headers={"Retry-After": later}),
        httpx.Response(200, json={}),
    ]
    http, _ = client(answers, clock)
    http.get_json("https://api.test/x")
    assert clock.sleeps[0] == 30 and clock.sleeps[1] == 60  # the date is 90 s after start


def test_gives_up_after_max_attempts_with_a_redacted_message() -> None:
    clock = Clock()
    http, seen = client([httpx.Response(500)] * 3, clock, retry=RetryPolicy(max_attempts=3))
    with pytest.raises(RetriesExhausted) as failure:
        http.get_json("https://api.test/x", params={"access_token": "s3cret-token"})
    assert len(seen) == 3
    assert "s3cret-token" not in str(failure.value) and "access_token=***" in str(failure.value)


def test_throttle_waits_do_not_count_as_failures_but_are_bounded() -> None:
    clock = Clock()

    def check(response: httpx.Response) -> None:
        if response.json().get("code") == 40100:
            raise Retryable("rate limited", wait=300, throttle=True)

    answers: list[object] = [httpx.Response(200, json={"code": 40100})] * 7
    http, _ = client(answers, clock, retry=RetryPolicy(max_attempts=1, max_throttle_waits=5))
    with pytest.raises(RateLimited):
        http.request("GET", "https://api.test/x", check=check)
    assert clock.sleeps == [300] * 5


def test_a_wait_longer_than_allowed_fails_instead_of_hanging() -> None:
    clock = Clock()
    http, _ = client(
        [httpx.Response(429, headers={"Retry-After": "86400"})],
        clock,
        retry=RetryPolicy(max_wait=3600),
    )
    with pytest.raises(RateLimited, match="asked to wait 86400s"):
        http.get_json("https://api.test/x")
    assert clock.sleeps == []


def test_circuit_breaker_opens_fails_fast_then_half_opens() -> None:
    clock = Clock()
    breaker = CircuitBreaker(clock, threshold=3, cooldown=60)
    answers: list[object] = [httpx.Response(500)] * 3 + [httpx.Response(200, json={})]
    http, seen = client(answers, clock, breaker=breaker, retry=RetryPolicy(max_attempts=10))
    with pytest.raises(CircuitOpen, match="circuit open after 3 consecutive failures"):
        http.get_json("https://api.test/x")
    assert len(seen) == 3 and breaker.is_open
    with pytest.raises(CircuitOpen):
        http.get_json("https://api.test/x")
    assert len(seen) == 3  # no call while open
    clock.mono += 61
    assert http.get_json("https://api.test/x") == {}
    assert not breaker.is_open


def test_logs_are_structured_and_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="ingest")
    clock = Clock()
    http, _ = client([httpx.Response(500), httpx.Response(200, json={})], clock)
    http.get_json("https://api.test/x?access_token=s3cret-token&after=abc")
    retry = next(r for r in caplog.records if getattr(r, "event", "") == "http.retry")
    assert retry.fields["throttle"] is False  # type: ignore[attr-defined]
    assert "s3cret-token" not in caplog.text and "access_token=***" in caplog.text


def test_redaction_of_urls_headers_and_known_secrets() -> None:
    url = (
        "https://graph.facebook.com/v22.0/act_1/insights?access_token=EAAB123&limit=3&after=MgZDZD"
    )
    assert redact_secret_params(url) == (
        "https://graph.facebook.com/v22.0/act_1/insights?access_token=***&limit=3&after=MgZDZD"
    )
    redact = Redactor(["sk_live_abcdef"])
    assert redact("key sk_live_abcdef and Bearer abc.def") == "key *** and Bearer ***"
    assert redact("next=...%26access_token%3DEAAB123") == "next=...%26access_token%3D***"


def test_usage_headers_are_a_map_of_arrays_and_case_insensitive() -> None:
    headers = httpx.Headers(
        {
            "X-Business-Use-Case-Usage": json.dumps(
                {
                    "1": [
                        {
                            "type": "ads_management",
                            "call_count": 12,
                            "estimated_time_to_regain_access": 0,
                        }
                    ],
                    "2": [
                        {
                            "type": "ads_insights",
                            "call_count": 118,
                            "total_time": 44,
                            "estimated_time_to_regain_access": 47,
                        }
                    ],
                }
            ),
            "X-App-Usage": json.dumps({"call_count": 28, "total_time": 25, "total_cputime": 25}),
            "x-ad-account-usage": json.dumps({"acc_id_util_pct": 9.67, "reset_time_duration": 100}),
        }
    )
    usage = parse_usage(headers)
    assert usage.percent == 118 and usage.regain_seconds == 47 * 60 and usage.reset_seconds == 100
    assert parse_usage(httpx.Headers({"x-app-usage": "not json"})).percent == 0


def test_sync_range_restates_the_lookback_and_resumes_after_the_cursor() -> None:
    from datetime import date

    today = date(2024, 5, 30)
    assert sync_range(today=today, cursor=date(2024, 5, 29), lookback_days=28, initial_days=90) == (
        DateWindow(date(2024, 5, 3), today)
    )
    assert sync_range(today=today, cursor=date(2024, 1, 1), lookback_days=7, initial_days=90) == (
        DateWindow(date(2024, 1, 2), today)
    )
    assert sync_range(today=today, cursor=None, lookback_days=7, initial_days=3) == DateWindow(
        date(2024, 5, 28), today
    )
    windows = list(split_windows(DateWindow(date(2024, 1, 1), date(2024, 1, 10)), 4))
    assert [str(w) for w in windows] == [
        "2024-01-01..2024-01-04",
        "2024-01-05..2024-01-08",
        "2024-01-09..2024-01-10",
    ]
