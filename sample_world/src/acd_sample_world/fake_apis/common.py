"""What the fake vendor APIs share: their reply and error types, the state of the served world
they read, and small helpers (request ids, complete days, integer parameters).

Each vendor's API is a mixin of `FakeApi` in its own module (`meta`, `tiktok`, `stripe`);
`server.SampleWorld` combines them and routes each request to one by its path prefix.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from acd_sample_world.store import WorldFiles


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


class FakeApi:
    """The state every vendor API reads (set by `server.SampleWorld`) and the helpers they share."""

    files: WorldFiles
    manifest: dict[str, Any]
    now: datetime
    _lock: threading.Lock
    _counter: int

    def _next_id(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    def _complete_days(self, since: date, until: date) -> list[date]:
        last = min(until, self.now.date() - timedelta(days=1))  # today is not complete yet
        days = []
        day = since
        while day <= last:
            days.append(day)
            day += timedelta(days=1)
        return days

    @staticmethod
    def _int(raw: str | None, default: int, error: Any, *, minimum: int = 1) -> int:
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError as exc:
            raise error(f"Invalid integer: {raw}") from exc
        if value < minimum:
            raise error(f"must be at least {minimum}")
        return value
