"""`Client`: validate, stamp, journal and enqueue an event, then return at once.

The calling thread does only what must happen before `track` returns: validation (so a bad
call raises `InvalidEvent` and writes nothing), serialization, one `write(2)` to the journal
(so the event survives `kill -9`) and an append to the in-memory queue. A `Consumer` thread
ships batches; `sync_mode=True` ships in the caller's thread instead (serverless, tests).

Delivery problems never raise into the host: they go to `on_error(exception, event_count)`
(or a logged warning), and the events wait in the journal for the next attempt or process.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from acd_analytics.consumer import Buffer, Consumer, Delivery, ErrorCallback
from acd_analytics.events import (
    EventRecord,
    InvalidEvent,
    build_record,
    check_product,
    encode_line,
)
from acd_analytics.spool import Spool, default_spool_dir, target_directory
from acd_analytics.transport import Sink, open_sink
from acd_analytics.warehouse_url import parse_warehouse_url, resolve_warehouse_url

VERSION = "0.1.0"
LIBRARY = f"acd-analytics/{VERSION}"
PRODUCT_SETTING = "ACD_PRODUCT"

DEFAULT_BATCH_SIZE = 5_000
DEFAULT_FLUSH_INTERVAL = 0.5
DEFAULT_MAX_QUEUE_SIZE = 100_000
DEFAULT_SEGMENT_BYTES = 64 << 20
DEFAULT_EXIT_TIMEOUT = 5.0

_live_clients: weakref.WeakSet[Client] = weakref.WeakSet()


class Client:
    """Tracks events into `shared_events` of the warehouse at `warehouse_url`.

    Settings fall back to `ACD_WAREHOUSE_URL`, `ACD_PRODUCT` and `ACD_SPOOL_DIR`. One client
    per process and warehouse is the intended use; it is safe to share across threads and
    survives `fork` (the child starts a fresh consumer and journal segment on first use).
    `sink` replaces the database writer (tests, custom transports).
    """

    def __init__(
        self,
        warehouse_url: str | None = None,
        product: str | None = None,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        max_queue_size: int = DEFAULT_MAX_QUEUE_SIZE,
        spool_dir: str | os.PathLike[str] | None = None,
        sync_mode: bool = False,
        on_error: ErrorCallback | None = None,
        disabled: bool = False,
        exit_timeout: float = DEFAULT_EXIT_TIMEOUT,
        sink: Sink | Callable[[], Sink] | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if max_queue_size < 1:
            raise ValueError("max_queue_size must be at least 1")
        if flush_interval <= 0:
            raise ValueError("flush_interval must be positive")
        self.target = parse_warehouse_url(resolve_warehouse_url(warehouse_url))
        product = product if product is not None else os.environ.get(PRODUCT_SETTING) or None
        self.product = check_product(product) if product is not None else None
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.max_queue_size = max_queue_size
        self.sync_mode = sync_mode
        self.disabled = disabled
        self.exit_timeout = exit_timeout
        self.spool_dir = Path(spool_dir) if spool_dir is not None else default_spool_dir()
        self.on_error = on_error
        if sink is None:
            target = self.target
            self._sink_factory: Callable[[], Sink] = lambda: open_sink(target)
        elif callable(sink) and not hasattr(sink, "write"):
            self._sink_factory = sink
        else:
            fixed: Sink = sink  # type: ignore[assignment]
            self._sink_factory = lambda: fixed
        self._products = {self.product} if self.product else set()
        self._init_runtime()
        _live_clients.add(self)
        _register_fork_handler(self)

    def _init_runtime(self) -> None:
        """The per-process machinery (also rebuilt in a forked child)."""
        self._spool = Spool(target_directory(self.spool_dir, self.target))
        self._buffer = Buffer(
            self._spool, max_queue_size=self.max_queue_size, segment_bytes=DEFAULT_SEGMENT_BYTES
        )
        self._delivery = Delivery(
            self._buffer,
            self._sink_factory,
            batch_size=self.batch_size,
            library=LIBRARY,
            on_error=self.on_error,
        )
        self._wake = threading.Event()
        self._flush_waiters = 0
        self._consumer: Consumer | None = None
        self._started = False
        self._start_lock = threading.Lock()

    # -- public API ------------------------------------------------------------------------------

    def track(
        self,
        event_name: str,
        properties: Mapping[str, Any] | None = None,
        *,
        user_id: str | None = None,
        anonymous_id: str | None = None,
        product: str | None = None,
        occurred_at: datetime | None = None,
        event_id: str | None = None,
        session_id: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> str:
        """Validate and record one event; returns its `event_id`. Raises only `InvalidEvent`."""
        if product is None:
            product = self.product
            if product is None:
                raise InvalidEvent("product", "is required: pass product= or set ACD_PRODUCT")
        elif product not in self._products:
            check_product(product)
            if len(self._products) < 1000:
                self._products.add(product)
        record = build_record(
            product,
            event_name,
            properties,
            user_id,
            anonymous_id,
            session_id,
            occurred_at,
            event_id,
            context,
        )
        if not self.disabled:
            self._enqueue(record)
        return record[0]

    def identify(
        self,
        user_id: str,
        traits: Mapping[str, Any] | None = None,
        *,
        anonymous_id: str | None = None,
        product: str | None = None,
        occurred_at: datetime | None = None,
        event_id: str | None = None,
        session_id: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> str:
        """Write an `identify` event: `user_id` has these `traits` (docs/REFERENCE.md, Standard events)."""
        if not user_id:
            raise InvalidEvent("user_id", "is required for identify")
        return self.track(
            "identify",
            {"traits": dict(traits or {})},
            user_id=user_id,
            anonymous_id=anonymous_id,
            product=product,
            occurred_at=occurred_at,
            event_id=event_id,
            session_id=session_id,
            context=context,
        )

    def alias(
        self,
        previous_id: str,
        user_id: str,
        *,
        product: str | None = None,
        occurred_at: datetime | None = None,
        event_id: str | None = None,
        session_id: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> str:
        """Write an `alias` event: `previous_id` (e.g. an anonymous id) is `user_id`."""
        if not user_id:
            raise InvalidEvent("user_id", "is required for alias")
        return self.track(
            "alias",
            {"previous_id": previous_id},
            user_id=user_id,
            product=product,
            occurred_at=occurred_at,
            event_id=event_id,
            session_id=session_id,
            context=context,
        )

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every event tracked so far (and every claimed orphan) is committed.

        Returns False if `timeout` seconds passed first (the rest stays queued and journaled).
        `timeout=None` waits as long as it takes, outages included.
        """
        if self.disabled:
            return True
        self._ensure_started()
        buffer = self._buffer
        with buffer.lock:
            target = buffer.write_position()
        if self.sync_mode:
            self._drain_here()
            return self._done(target)
        deadline = None if timeout is None else time.monotonic() + timeout
        with buffer.lock:
            self._flush_waiters += 1
        try:
            self._wake.set()
            with buffer.progress:
                while not self._done_locked(target):
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return False
                    if self._consumer is None or not self._consumer.is_alive():
                        return False
                    buffer.progress.wait(0.25 if remaining is None else min(remaining, 0.25))
                return True
        finally:
            with buffer.lock:
                self._flush_waiters -= 1

    def shutdown(self, timeout: float | None = DEFAULT_EXIT_TIMEOUT) -> bool:
        """Flush with a bounded wait, stop the consumer, release the journal and connection.

        Undelivered events stay in the journal for the next client on this spool directory.
        Returns True if everything was delivered. Tracking again restarts the client.
        """
        with self._start_lock:
            if not self._started:
                return True
        started = time.monotonic()
        delivered = self.flush(timeout)
        consumer = self._consumer
        if consumer is not None:
            consumer.stop()
            consumer.join(min(1.0, timeout) if timeout is not None else None)
        remaining = 1.0 if timeout is None else max(0.1, timeout - (time.monotonic() - started))
        if self._delivery.lock.acquire(timeout=remaining):
            try:
                self._delivery.close_sink()
                self._release_journal()
            finally:
                self._delivery.lock.release()
        with self._start_lock:
            self._init_runtime()
        return delivered

    def stats(self) -> dict[str, Any]:
        """Counters since this client started in this process, and the current backlog."""
        buffer = self._buffer
        with buffer.lock:
            counters = vars(buffer.counters).copy()
            counters.update(
                queued=len(buffer.queue),
                spilling=buffer.spilling,
                journal_segments=len(buffer.segments),
                orphan_segments=len(buffer.orphans),
                journal_dir=str(self._spool.directory),
                consecutive_failures=self._delivery.failures,
            )
        return counters

    # -- internals -------------------------------------------------------------------------------

    def _ensure_started(self) -> None:
        if self._started:
            return
        with self._start_lock:
            if self._started:
                return
            try:
                self._buffer.claim_orphans()
            except OSError as exc:
                self._delivery.report(exc, 0)
            if not self.sync_mode:
                consumer = Consumer(
                    self._delivery,
                    flush_interval=self.flush_interval,
                    wake=self._wake,
                    urgent=lambda: self._flush_waiters > 0,
                )
                try:
                    consumer.start()
                    self._consumer = consumer
                except RuntimeError as exc:  # interpreter shutting down: journal only
                    self._delivery.report(exc, 0)
            self._started = True

    def _enqueue(self, record: EventRecord) -> None:
        if not self._started:
            self._ensure_started()
        line = encode_line(record)
        buffer = self._buffer
        queue = buffer.queue
        with buffer.lock:
            buffer.counters.tracked += 1
            segments = buffer.segments
            segment = segments[-1] if segments and not segments[-1].sealed else None
            try:
                if segment is None:
                    segment = buffer.current_segment()
                end = segment.append(line)
            except OSError as exc:
                self._journal_failed(exc, record, line)
            else:
                if buffer.spilling:
                    buffer.counters.spilled += 1
                elif len(queue) >= buffer.max_queue_size:
                    buffer.start_spilling(segment, end - len(line))
                    buffer.counters.spilled += 1
                else:
                    queue.append((record, segment, end, line))
                if end >= buffer.segment_bytes:
                    buffer.rotate_if_large(segment)
            backlog = len(queue) >= self.batch_size or buffer.spilling
        if self.sync_mode:
            if time.monotonic() >= self._delivery.retry_at:
                self._drain_here()
        elif backlog and not self._wake.is_set():
            self._wake.set()

    def _drain_here(self) -> None:
        """Sync mode: ship in the caller's thread, one attempt, errors to `on_error`."""
        delivery = self._delivery
        try:
            with delivery.lock:
                delivery.drain(until_empty=True, wait=None)
        except Exception as exc:
            delivery.report(exc, 0)

    def _journal_failed(self, exc: OSError, record: EventRecord, line: bytes) -> None:
        """The disk refused the line (full, read-only): keep it in memory if there is room."""
        buffer = self._buffer
        buffer.counters.journal_errors += 1
        if len(buffer.queue) < buffer.max_queue_size:
            buffer.queue.append((record, None, 0, line))
            self._delivery.report(exc, 0)
        else:
            buffer.counters.dropped += 1
            self._delivery.report(exc, 1)

    def _done(self, target: tuple[int, int] | None) -> bool:
        with self._buffer.lock:
            return self._done_locked(target)

    def _done_locked(self, target: tuple[int, int] | None) -> bool:
        buffer = self._buffer
        if buffer.orphans:
            return False
        if buffer.counters.journal_errors and any(item[1] is None for item in buffer.queue):
            return False
        return target is None or buffer.delivered_position >= target

    def _release_journal(self) -> None:
        buffer = self._buffer
        with buffer.lock:
            for segment in buffer.segments:
                if segment.committed >= segment.size:
                    segment.remove()
                else:
                    segment.sync()
                    segment.close()
            for orphan in buffer.orphans:
                orphan.close()
            buffer.segments.clear()
            buffer.orphans.clear()
            buffer.queue.clear()

    def _after_fork_in_child(self) -> None:
        buffer = self._buffer
        for segment in [*buffer.segments, *buffer.orphans]:
            segment.forget()
        sink = self._delivery.sink
        if sink is not None:
            sink.abandon()
        self._init_runtime()


def _register_fork_handler(client: Client) -> None:
    ref = weakref.ref(client)

    def before() -> None:
        live = ref()
        if live is not None:
            live._buffer.lock.acquire()

    def after_in_parent() -> None:
        live = ref()
        if live is not None:
            live._buffer.lock.release()

    def after_in_child() -> None:
        live = ref()
        if live is not None:
            live._after_fork_in_child()

    os.register_at_fork(
        before=before, after_in_parent=after_in_parent, after_in_child=after_in_child
    )


@atexit.register
def _shutdown_at_exit() -> None:
    for client in list(_live_clients):
        with contextlib.suppress(Exception):
            client.shutdown(timeout=client.exit_timeout)


# -- module-level API on a lazily created default client ------------------------------------------

_default_client: Client | None = None
_default_lock = threading.Lock()


def default_client() -> Client:
    """The client behind `track_event` & co., configured from the environment on first use."""
    global _default_client
    if _default_client is None:
        with _default_lock:
            if _default_client is None:
                _default_client = Client()
    return _default_client


def track_event(event_name: str, properties: Mapping[str, Any] | None = None, **kwargs: Any) -> str:
    """`Client.track` on the default client."""
    return default_client().track(event_name, properties, **kwargs)


def identify(user_id: str, traits: Mapping[str, Any] | None = None, **kwargs: Any) -> str:
    return default_client().identify(user_id, traits, **kwargs)


def alias(previous_id: str, user_id: str, **kwargs: Any) -> str:
    return default_client().alias(previous_id, user_id, **kwargs)


def flush(timeout: float | None = None) -> bool:
    return default_client().flush(timeout)


def shutdown(timeout: float | None = DEFAULT_EXIT_TIMEOUT) -> bool:
    return default_client().shutdown(timeout)
