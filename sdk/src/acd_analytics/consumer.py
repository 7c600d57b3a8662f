"""Batch, deliver, retry, checkpoint: everything between the journal and the sink.

`Buffer` is the state the client (producer) and the consumer share: the in-memory queue, the
client's own journal segments, the orphan segments it claimed, and a disk cursor. The queue
mirrors the journal: while it has room every new event is in both; when it is full, or the
warehouse failed, the buffer *spills*: the queue is dropped (its events are in the journal
anyway) and the consumer reads the journal from the last checkpoint until it has caught up
with the writer, then goes back to memory. Memory therefore stays bounded during an outage of
any length and nothing is ever dropped.

`Consumer` is the background thread of `Client`; in `sync_mode` the caller's thread runs the
same `Delivery.drain` without sleeping.

A failed batch is handled by the kind of error (`transport.is_permanent`). A transient error
(the link, the server) rewinds the batch to the journal and retries it with exponential
backoff, forever. A permanent error (the rows: a check or row-level-security violation, a data
error) would fail forever too, and block every later event behind it: the batch is bisected
instead, the halves that commit are delivered, and the single rows that still fail are
appended to the spool's quarantine file (with their error, fsynced) before the checkpoint
moves past them; they are counted in `stats()["quarantined"]` and reported to `on_error` as
one `EventsQuarantined` per batch. If a transient error strikes during the bisection, the
whole batch is retried later (rows already committed are ignored as duplicates) and nothing is
quarantined until a bisection completes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from acd_analytics.events import EventRecord
from acd_analytics.spool import Segment, Spool
from acd_analytics.transport import EventsQuarantined, Sink, is_permanent

log = logging.getLogger("acd_analytics")

ErrorCallback = Callable[[BaseException, int], Any]
# (record, its journal segment or None if the disk refused it, end offset there, journal line)
QueueItem = tuple[EventRecord, Segment | None, int, bytes]
RECORD_FIELDS = (
    "event_id",
    "product",
    "event_name",
    "user_id",
    "anonymous_id",
    "session_id",
    "occurred_at_us",
    "properties",
    "context",
)
UNJOURNALED = "unjournaled"  # quarantine file of events the disk refused to journal


@dataclass
class Batch:
    records: list[EventRecord]
    commits: list[tuple[Segment, int]]  # checkpoints to write once the warehouse committed
    own: bool  # from this client's queue or journal (False: a claimed orphan)
    volatile: list[QueueItem] = field(default_factory=list)  # not in the journal (disk error)
    items: list[QueueItem] | None = None  # memory batches: the segment of each record
    lines: list[bytes] | None = None  # the journal line of each record (for `write_lines`)

    def segment_of(self, index: int) -> Segment | None:
        if self.items is not None:
            return self.items[index][1]
        return self.commits[0][0] if self.commits else None


@dataclass
class Counters:
    tracked: int = 0
    delivered: int = 0
    batches: int = 0
    failed_attempts: int = 0
    spilled: int = 0
    replayed: int = 0
    journal_errors: int = 0
    dropped: int = 0
    quarantined: int = 0
    unreadable_lines: int = 0
    last_error: str | None = None


class Buffer:
    def __init__(self, spool: Spool, *, max_queue_size: int, segment_bytes: int) -> None:
        self.spool = spool
        self.max_queue_size = max_queue_size
        self.segment_bytes = segment_bytes
        self.lock = threading.Lock()
        self.progress = threading.Condition(self.lock)
        self.queue: deque[QueueItem] = deque()
        self.segments: list[Segment] = []  # own, oldest first; the last one takes appends
        self.orphans: list[Segment] = []
        self.spilling = False
        self.cursor: tuple[Segment, int] | None = None
        self.delivered_position = (0, 0)  # (segment seq, committed offset), only grows
        self.next_seq = 1
        self.prefer_orphans = False
        self.counters = Counters()

    # -- producer side (called with `lock` held) ------------------------------------------------

    def current_segment(self) -> Segment:
        if not self.segments or self.segments[-1].sealed:
            self.segments.append(self.spool.new_segment(self.next_seq))
            self.next_seq += 1
        return self.segments[-1]

    def rotate_if_large(self, segment: Segment) -> None:
        if segment.size >= self.segment_bytes:
            segment.sealed = True

    def start_spilling(self, segment: Segment, offset: int) -> None:
        """The queue is full: keep what it holds, read everything from `offset` on from disk."""
        self.spilling = True
        self.cursor = (segment, offset)

    def write_position(self) -> tuple[int, int] | None:
        if not self.segments:
            return None
        last = self.segments[-1]
        return (last.seq, last.size)

    # -- consumer side ---------------------------------------------------------------------------

    def has_backlog(self, batch_size: int) -> bool:
        return len(self.queue) >= batch_size or self.spilling or bool(self.orphans)

    def next_batch(self, max_records: int) -> Batch | None:
        """The next batch to ship; journal reads happen outside the lock `track` takes."""
        with self.lock:
            self.prefer_orphans = not self.prefer_orphans
            plan: tuple[Segment, int, int] | None = None
            own = not (self.orphans and self.prefer_orphans)
            items: list[QueueItem] | None = None
            if own:
                if self.queue:
                    items = self._take(max_records)
                else:
                    plan = self._journal_plan()
                if plan is None and self.orphans:
                    own = False
            if not own:
                plan = self._orphan_plan()
        if items is not None:
            return self._memory_batch(items)
        if plan is None:
            return None
        segment, offset, end = plan
        records, lines, new_offset, bad = segment.read(offset, end, max_records)
        with self.lock:
            self.counters.unreadable_lines += bad
            if own:
                self.cursor = (segment, new_offset)
        return Batch(records, [(segment, new_offset)], own, lines=lines)

    def _take(self, max_records: int) -> list[QueueItem]:
        """Up to `max_records` items off the queue (the lock held: keep it short)."""
        queue = self.queue
        if len(queue) <= max_records:
            items = list(queue)
            queue.clear()
            return items
        popleft = queue.popleft
        return [popleft() for _ in range(max_records)]

    @staticmethod
    def _memory_batch(items: list[QueueItem]) -> Batch:
        ends: dict[int, tuple[Segment, int]] = {}
        volatile: list[QueueItem] = []
        for item in items:
            if item[1] is None:
                volatile.append(item)
            else:
                ends[id(item[1])] = (item[1], item[2])
        return Batch(
            [item[0] for item in items],
            list(ends.values()),
            True,
            volatile,
            items,
            [item[3] for item in items],
        )

    def _journal_plan(self) -> tuple[Segment, int, int] | None:
        while self.spilling and self.cursor is not None:
            segment, offset = self.cursor
            if offset < segment.size:
                return segment, offset, segment.size
            following = self._segment_after(segment)
            if following is None:
                self.spilling = False  # caught up with the writer: back to memory
                self.cursor = None
            else:
                self.cursor = (following, following.committed)
        return None

    def _segment_after(self, segment: Segment) -> Segment | None:
        for index, candidate in enumerate(self.segments):
            if candidate is segment:
                return self.segments[index + 1] if index + 1 < len(self.segments) else None
        return self.segments[0] if self.segments else None

    def _orphan_plan(self) -> tuple[Segment, int, int] | None:
        while self.orphans:
            orphan = self.orphans[0]
            if orphan.committed < orphan.size:
                return orphan, orphan.committed, orphan.size
            self.orphans.pop(0)
            orphan.remove()
            self.progress.notify_all()
        return None

    def committed(self, batch: Batch, quarantined: int = 0) -> None:
        """The warehouse committed `batch` (but `quarantined` of its events, set aside):
        checkpoint, delete finished segments, wake flushers."""
        for segment, offset in batch.commits:
            with contextlib.suppress(OSError):
                segment.write_checkpoint(offset)
        with self.lock:
            counters = self.counters
            counters.batches += 1
            counters.delivered += len(batch.records) - quarantined
            counters.quarantined += quarantined
            if not batch.own:
                counters.replayed += len(batch.records) - quarantined
            for segment, offset in batch.commits:
                segment.committed = max(segment.committed, offset)
                if segment.seq:
                    self.delivered_position = max(self.delivered_position, (segment.seq, offset))
                elif segment.committed >= segment.size and segment in self.orphans:
                    self.orphans.remove(segment)
                    segment.remove()
            cursor_segment = self.cursor[0] if self.cursor is not None else None
            for segment in list(self.segments):
                if (
                    segment.sealed
                    and segment.committed >= segment.size
                    and segment is not cursor_segment
                ):
                    self.segments.remove(segment)
                    segment.remove()
            self.progress.notify_all()

    def rewind(self, batch: Batch) -> None:
        """Delivery failed: from now on read this client's events back from the journal."""
        if not batch.own:
            return
        with self.lock:
            volatile = batch.volatile + [item for item in self.queue if item[1] is None]
            self.queue.clear()
            self.queue.extend(volatile)
            for segment in self.segments:
                if segment.committed < segment.size:
                    self.spilling = True
                    self.cursor = (segment, segment.committed)
                    break

    def claim_orphans(self) -> int:
        mine = {segment.path for segment in self.segments}
        claimed = list(self.spool.claim_orphans(mine))
        with self.lock:
            known = {segment.path for segment in self.orphans}
            for segment in claimed:
                if segment.path in known:
                    segment.close()
                else:
                    self.orphans.append(segment)
        return len(claimed)

    def pending_orphans(self) -> bool:
        return bool(self.orphans)


class Delivery:
    """Moves batches from a `Buffer` into a `Sink`; errors go to `on_error`, never upward."""

    def __init__(
        self,
        buffer: Buffer,
        sink_factory: Callable[[], Sink],
        *,
        batch_size: int,
        library: str,
        on_error: ErrorCallback | None,
        backoff_base: float = 0.05,
        backoff_cap: float = 10.0,
    ) -> None:
        self.buffer = buffer
        self.sink_factory = sink_factory
        self.sink: Sink | None = None
        self.batch_size = batch_size
        self.library = library
        self.on_error = on_error
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.failures = 0
        self.retry_at = 0.0
        self.lock = threading.Lock()  # one drainer at a time (consumer or sync callers)

    def drain(self, *, until_empty: bool, wait: Callable[[float], bool] | None) -> bool:
        """Ship batches; on failure back off with `wait` (None: give up at once). True if empty."""
        while True:
            batch = self.buffer.next_batch(self.batch_size)
            if batch is None:
                return True
            if not self.ship(batch):
                self.buffer.rewind(batch)
                if wait is None or wait(self.backoff()):
                    return False
                continue
            if not until_empty and not self.buffer.has_backlog(self.batch_size):
                return True

    def ship(self, batch: Batch) -> bool:
        rejected: list[tuple[int, BaseException]] = []
        quarantine: EventsQuarantined | None = None
        try:
            if batch.records:
                if self.sink is None:
                    self.sink = self.sink_factory()
                count = len(batch.records)
                self._write(self.sink, batch, 0, count, time.time_ns() // 1000, rejected)
                if rejected:
                    quarantine = self._quarantine(batch, rejected)
        except Exception as exc:
            self.failures += 1
            self.retry_at = time.monotonic() + self.backoff_delay()
            with self.buffer.lock:
                self.buffer.counters.failed_attempts += 1
                self.buffer.counters.last_error = f"{type(exc).__name__}: {exc}"
            self.report(exc, len(batch.records))
            return False
        self.failures = 0
        self.retry_at = 0.0
        self.buffer.committed(batch, len(rejected))
        for segment, _ in batch.commits:
            if not segment.closed:
                segment.sync()
        if quarantine is not None:
            with self.buffer.lock:
                self.buffer.counters.last_error = str(quarantine)
            self.report(quarantine, len(rejected))
        return True

    def _write(
        self,
        sink: Sink,
        batch: Batch,
        start: int,
        stop: int,
        sent_at_us: int,
        rejected: list[tuple[int, BaseException]],
    ) -> None:
        """Write records [start, stop) of `batch`; on a permanent error bisect, and collect the
        single records that still fail in `rejected`. Transient errors raise."""
        write_lines = getattr(sink, "write_lines", None)
        try:
            if write_lines is not None and batch.lines is not None:
                write_lines(batch.lines[start:stop], sent_at_us, self.library)
            else:
                sink.write(batch.records[start:stop], sent_at_us, self.library)
            return
        except Exception as exc:
            if not is_permanent(exc):
                raise
            if stop - start == 1:
                rejected.append((start, exc))
                return
        middle = (start + stop) // 2
        self._write(sink, batch, start, middle, sent_at_us, rejected)
        self._write(sink, batch, middle, stop, sent_at_us, rejected)

    def _quarantine(
        self, batch: Batch, rejected: list[tuple[int, BaseException]]
    ) -> EventsQuarantined:
        """Append the rejected records to their segment's quarantine file (raises OSError)."""
        now = datetime.now(UTC).isoformat()
        by_file: dict[str, list[bytes]] = {}
        event_ids: list[str] = []
        for index, exc in rejected:
            record = batch.records[index]
            segment = batch.segment_of(index)
            entry = {
                "quarantined_at": now,
                "error": f"{type(exc).__name__}: {exc}",
                "event": dict(zip(RECORD_FIELDS, record, strict=False)),
            }
            line = json.dumps(entry, ensure_ascii=True, default=str) + "\n"
            name = segment.path.stem if segment is not None else UNJOURNALED
            by_file.setdefault(name, []).append(line.encode("ascii"))
            event_ids.append(str(record[0]))
        paths = [str(self.buffer.spool.quarantine(name, lines)) for name, lines in by_file.items()]
        return EventsQuarantined(event_ids, paths, rejected[0][1])

    def backoff_delay(self) -> float:
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** min(self.failures, 30))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def backoff(self) -> float:
        return max(0.0, self.retry_at - time.monotonic())

    def report(self, exc: BaseException, count: int) -> None:
        if self.on_error is None:
            log.warning("acd-analytics: delivery of %d events failed: %s", count, exc)
            return
        try:
            self.on_error(exc, count)
        except Exception:
            log.exception("acd-analytics: the on_error callback raised")

    def close_sink(self) -> None:
        sink, self.sink = self.sink, None
        if sink is not None:
            with contextlib.suppress(Exception):
                sink.close()


class Consumer(threading.Thread):
    """Ships a batch when `batch_size` events are queued or `flush_interval` has passed."""

    ORPHAN_SCAN_SECONDS = 60.0

    def __init__(
        self,
        delivery: Delivery,
        *,
        flush_interval: float,
        wake: threading.Event,
        urgent: Callable[[], bool],
    ) -> None:
        super().__init__(name="acd-analytics-consumer", daemon=True)
        self.delivery = delivery
        self.flush_interval = flush_interval
        self.wake = wake
        self.urgent = urgent
        self.stopping = threading.Event()

    def run(self) -> None:
        buffer = self.delivery.buffer
        last_scan = time.monotonic()
        while not self.stopping.is_set():
            if not buffer.has_backlog(self.delivery.batch_size) and not self.urgent():
                self.wake.wait(self.flush_interval)
            self.wake.clear()
            if self.stopping.is_set():
                break
            try:
                with self.delivery.lock:
                    self.delivery.drain(until_empty=self.urgent(), wait=self.stopping.wait)
                if time.monotonic() - last_scan > self.ORPHAN_SCAN_SECONDS:
                    last_scan = time.monotonic()
                    buffer.claim_orphans()
            except Exception as exc:  # never let the thread die: report and carry on
                self.delivery.report(exc, 0)
                self.stopping.wait(1.0)

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
