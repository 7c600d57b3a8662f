"""The audit log (docs/API.md, Audit): one `api_audit_log` row per request, never the key.

Requests add their row to a queue; a thread writes the queue in batches (every half second, or
sooner when it fills), so the answer never waits on the log. `flush()` writes what is queued
now; the server flushes on shutdown. When the warehouse cannot take the rows (a DuckDB file
held by a build) they stay queued and are written on a later try.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode

from api.warehouse import Reader

log = logging.getLogger("acd.api")

COLUMNS = (
    *("request_id", "key_id", "key_name", "method", "path", "query", "status"),
    *("rows_returned", "duration_ms", "requested_at"),
)
MAX_QUEUED = 100_000
# Anything that looks like a key (read or write) is replaced, wherever a client put it.
KEY_LIKE = re.compile(r"acd[rw]k_[A-Za-z0-9_-]+")


def redact_query(query: str) -> str:
    """The query string with key-like values replaced, cut to 2,000 characters."""
    pairs = parse_qsl(query, keep_blank_values=True)
    cleaned = [(KEY_LIKE.sub("[redacted]", k), KEY_LIKE.sub("[redacted]", v)) for k, v in pairs]
    return urlencode(cleaned)[:2000]


@dataclass(frozen=True)
class AuditRow:
    key_id: str | None
    key_name: str | None
    method: str
    path: str
    query: str
    status: int
    rows_returned: int | None
    duration_ms: float
    requested_at: datetime

    def values(self) -> tuple[object, ...]:
        return (
            str(uuid.uuid4()),
            self.key_id,
            self.key_name,
            self.method,
            KEY_LIKE.sub("[redacted]", self.path)[:500],
            redact_query(self.query),
            self.status,
            self.rows_returned,
            self.duration_ms,
            self.requested_at,
        )


class AuditLog:
    def __init__(self, reader: Reader, interval: float = 0.5) -> None:
        self.reader = reader
        self.interval = interval
        self._queue: list[tuple[object, ...]] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, row: AuditRow) -> None:
        with self._lock:
            if len(self._queue) >= MAX_QUEUED:
                log.warning("audit log queue full: dropping the oldest row")
                self._queue.pop(0)
            self._queue.append(row.values())
            if len(self._queue) >= 500:
                self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="acd-api-audit", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()

    def flush(self) -> int:
        """Write every queued row now; the number written (0 when the warehouse refused)."""
        with self._write_lock:
            with self._lock:
                batch, self._queue = self._queue, []
            if not batch:
                return 0
            try:
                self.reader.insert_many("api_audit_log", COLUMNS, batch)
            except Exception as exc:
                log.warning("audit log not written yet (%s): will retry", type(exc).__name__)
                with self._lock:
                    self._queue[:0] = batch
                return 0
            return len(batch)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            self.flush()
