"""Meta Graph API client: cursor paging, throttling errors and usage-header pacing."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ingest._common.clock import Clock
from ingest._common.errors import ApiError, MalformedPage
from ingest._common.http import HttpClient, Retryable, RetryPolicy
from ingest._common.logs import log_event
from ingest._common.validate import require
from ingest.meta.settings import THROTTLE_CODES, MetaConfig


@dataclass(frozen=True)
class Usage:
    """The highest utilisation (percent) across Meta's usage headers, and the waits they name."""

    percent: float = 0.0
    regain_seconds: float = 0.0  # BUC estimated_time_to_regain_access (given in minutes)
    reset_seconds: float = 0.0  # x-ad-account-usage reset_time_duration (seconds)


def _header_json(headers: httpx.Headers, name: str) -> Any:
    raw = headers.get(name)  # httpx.Headers lookups are case-insensitive
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _numbers(obj: Any, *keys: str) -> list[float]:
    if not isinstance(obj, Mapping):
        return []
    return [float(obj[k]) for k in keys if isinstance(obj.get(k), int | float)]


def parse_usage(headers: httpx.Headers) -> Usage:
    """Read `x-app-usage`, `x-ad-account-usage`, `x-business-use-case-usage` (a map of
    arrays, one per business or account id) and `x-fb-ads-insights-throttle`."""
    percents: list[float] = []
    regain = 0.0
    percents += _numbers(
        _header_json(headers, "x-app-usage"), "call_count", "total_cputime", "total_time"
    )
    account = _header_json(headers, "x-ad-account-usage")
    percents += _numbers(account, "acc_id_util_pct")
    reset = max(_numbers(account, "reset_time_duration"), default=0.0)
    percents += _numbers(
        _header_json(headers, "x-fb-ads-insights-throttle"), "app_id_util_pct", "acc_id_util_pct"
    )
    buc = _header_json(headers, "x-business-use-case-usage")
    if isinstance(buc, Mapping):
        for entries in buc.values():
            for entry in entries if isinstance(entries, list) else [entries]:
                percents += _numbers(entry, "call_count", "total_cputime", "total_time")
                minutes = _numbers(entry, "estimated_time_to_regain_access")
                regain = max([regain, *(m * 60.0 for m in minutes)])
    return Usage(max(percents, default=0.0), regain, reset)


class MetaClient:
    def __init__(
        self,
        config: MetaConfig,
        *,
        clock: Clock,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.http = HttpClient(
            "meta",
            secrets=[config.access_token.reveal()],
            clock=clock,
            retry=retry,
            transport=transport,
        )
        self._log = logging.getLogger("ingest.meta")
        self.waits: list[float] = []  # every pause this client made (pacing and throttling)

    def close(self) -> None:
        self.http.close()

    # -- throttling -----------------------------------------------------------------------

    def _check(self, response: httpx.Response) -> None:
        """Throttling arrives as HTTP 400 (or 403/500) with an error code, not 429."""
        if response.status_code < 400:
            return
        try:
            error = response.json().get("error") or {}
        except (ValueError, AttributeError):
            return  # not Meta's JSON: the generic 5xx/4xx rules apply
        code = error.get("code")
        message = self.http.redact(str(error.get("message", "")))[:200]
        if code in THROTTLE_CODES:
            usage = parse_usage(response.headers)
            wait = usage.regain_seconds or usage.reset_seconds or self.config.pause_seconds
            # Quota errors say is_transient false yet clear in minutes: always wait them out.
            raise Retryable(
                f"throttled (code {code}/{error.get('error_subcode')}): {message}",
                wait=wait,
                throttle=True,
            )
        if error.get("is_transient") is True or response.status_code >= 500:
            raise Retryable(f"HTTP {response.status_code} code {code}: {message}")
        raise ApiError(f"meta: HTTP {response.status_code} (code {code}): {message}")

    def _pace(self, response: httpx.Response) -> None:
        """Slow down before the limit: pause at `pause_pct`, pace above `slowdown_pct`."""
        usage = parse_usage(response.headers)
        if usage.regain_seconds > 0:
            wait = usage.regain_seconds
        elif usage.percent >= self.config.pause_pct:
            wait = usage.reset_seconds or self.config.pause_seconds
        elif usage.percent > self.config.slowdown_pct:
            span = self.config.pause_pct - self.config.slowdown_pct
            wait = self.config.max_pace_seconds * (usage.percent - self.config.slowdown_pct) / span
        else:
            return
        log_event(
            self._log,
            logging.INFO,
            "meta.usage_pause",
            self.http.redact,
            usage_pct=usage.percent,
            wait_s=round(wait, 3),
        )
        self.waits.append(wait)
        self.clock.sleep(wait)

    # -- paging ---------------------------------------------------------------------------

    def pages(self, path: str, params: Mapping[str, Any], what: str) -> Iterator[tuple[str, Any]]:
        """Yield (page name, decoded body) for every page, following the `after` cursor for
        as long as `paging.next` is present (an empty page may still have a next one)."""
        url = f"{self.config.base_url.rstrip('/')}/{path}"
        query = {**params, "access_token": self.config.access_token.reveal()}
        number = 0
        while True:
            number += 1
            page = f"{what} page {number}"
            response = self.http.request("GET", url, params=query, check=self._check)
            try:
                body = response.json()
            except ValueError:
                raise MalformedPage(page, "<body>", "is not JSON") from None
            yield page, body
            self._pace(response)
            paging = body.get("paging") if isinstance(body, dict) else None
            if not isinstance(paging, dict) or not paging.get("next"):
                return
            cursors = require(paging, "cursors", dict, page, "paging")
            query = {**query, "after": require(cursors, "after", str, page, "paging.cursors")}
