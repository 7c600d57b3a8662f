"""TikTok clients: the Business API (errors as HTTP 200 + non-zero `code`, page numbers)
and the Display API (HTTP statuses, `cursor`/`has_more`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from ingest._common.clock import Clock
from ingest._common.errors import ApiError, MalformedPage
from ingest._common.http import HttpClient, Retryable, RetryPolicy, decode_json
from ingest._common.validate import require
from ingest.tiktok.settings import RATE_LIMIT_CODE, RETRYABLE_CODES, TikTokConfig


class TikTokBusinessClient:
    def __init__(
        self,
        config: TikTokConfig,
        *,
        clock: Clock,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.config = config
        token = config.access_token.reveal()
        self.http = HttpClient(
            "tiktok",
            headers={"Access-Token": token},  # the bare token, never "Bearer …"
            secrets=[token],
            clock=clock,
            retry=retry,
            transport=transport,
        )

    def close(self) -> None:
        self.http.close()

    def _check(self, response: httpx.Response) -> None:
        """Errors arrive as HTTP 200 with `code != 0`; key on `code`, whatever the status."""
        try:
            body = response.json()
        except ValueError:
            return
        if not isinstance(body, dict) or not isinstance(body.get("code"), int):
            return
        code = body["code"]
        if code == 0:
            return
        message = self.http.redact(str(body.get("message", "")))[:200]
        if code == RATE_LIMIT_CODE:
            raise Retryable(
                f"rate limited (code {code}): {message}",
                wait=self.config.rate_limit_wait,
                throttle=True,
            )
        if code in RETRYABLE_CODES:
            raise Retryable(f"code {code}: {message}")
        raise ApiError(f"tiktok: code {code}: {message}")

    def pages(self, path: str, params: Mapping[str, Any], what: str) -> Iterator[tuple[str, Any]]:
        """Yield (page name, `data`) for pages 1..`page_info.total_page`."""
        url = f"{self.config.base_url.rstrip('/')}/{path}"
        number = 1
        while True:
            page = f"{what} page {number}"
            response = self.http.request(
                "GET", url, params={**params, "page": number}, check=self._check
            )
            body = decode_json(response, page)
            if not isinstance(body, dict) or body.get("code") != 0:
                raise MalformedPage(page, "code", "should be 0")
            data = require(body, "data", dict, page)
            info = require(data, "page_info", dict, page, "data")
            total = require(info, "total_page", int, page, "data.page_info")
            yield page, data
            if number >= total:
                return
            number += 1


class TikTokDisplayClient:
    def __init__(
        self,
        config: TikTokConfig,
        token: str,
        *,
        clock: Clock,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.config = config
        self.http = HttpClient(
            "tiktok-display",
            headers={"Authorization": f"Bearer {token}"},
            secrets=[token],
            clock=clock,
            retry=retry,
            transport=transport,
        )

    def close(self) -> None:
        self.http.close()

    def video_pages(self, fields: str, what: str) -> Iterator[tuple[str, Any]]:
        """Yield (page name, `data`) until `has_more` is false (short pages do not stop it)."""
        url = f"{self.config.display_base_url.rstrip('/')}/video/list/"
        body: dict[str, Any] = {"max_count": self.config.video_page_size}
        number = 0
        while True:
            number += 1
            page = f"{what} page {number}"
            response = self.http.request("POST", url, params={"fields": fields}, json=body)
            answer = decode_json(response, page)
            error = require(answer, "error", dict, page)
            if error.get("code") != "ok":
                raise ApiError(f"tiktok-display: {error.get('code')}: {error.get('message')}")
            data = require(answer, "data", dict, page)
            has_more = require(data, "has_more", bool, page, "data")
            yield page, data
            if not has_more:
                return
            body = {**body, "cursor": require(data, "cursor", int, page, "data")}
