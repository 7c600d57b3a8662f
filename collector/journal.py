"""The collector's journal: accepted requests are fsynced here before the 200, then loaded.

Layout: `<journal dir>/slot-<n>/` per collector process, each holding numbered segment files
(`000000000001.journal`, …) and a `checkpoint` (the segment and offset loaded so far). A
process owns its slot by an exclusive `flock` for its lifetime, so several processes (or
`--workers N`) share one journal directory, and a process that starts after a crash takes
over a free slot and loads what its predecessor left. Slots nobody holds are loaded too.

Lines: `E` + an SDK stamped journal line (`events.encode_stamped_line`) for an event, `R` +
a JSON array for a rejected message (the columns of `shared_events_rejected`).

Writing (`Journal.append`): requests hand their lines to one writer thread and wait; the
writer takes everything that arrived meanwhile, writes it with one `write` and one
`fdatasync` (group commit), then wakes the requests. A request is acknowledged only after
that. Each process writes into a new segment, so a torn tail left by `kill -9` (never
acknowledged) stays at the end of an old segment, where the loader skips it.

Loading (`Loader`): one thread per process moves the durable lines into the warehouse in
batches (`shared_events` through the SDK's sink, idempotent on `event_id`;
`shared_events_rejected` idempotent on `rejected_id`), saves the checkpoint, and deletes
segments once fully loaded. Failures it cannot blame on the rows (connection lost, DuckDB file
locked by `acd-warehouse build`) are retried with backoff, with the lines kept on disk; rows
the warehouse refuses for good are found by bisection and stored as rejected instead. On
DuckDB the file is opened only for the duration of one batch.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import fcntl
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from acd_analytics.events import RejectedRecord, StampedRecord, encode_stamped_line
from acd_analytics.transport import StampedSink, is_permanent, open_sink
from acd_analytics.warehouse_url import WarehouseTarget

from collector import metrics

log = logging.getLogger("acd.collector.journal")

SEGMENT_BYTES = 64 * 1024 * 1024
LOAD_BATCH_BYTES = 8 * 1024 * 1024
LOAD_BATCH_LINES = 20_000
MAX_BACKOFF_SECONDS = 5.0
EVENT = b"E"
REJECTED = b"R"


class JournalFull(RuntimeError):
    """The journal is at its disk budget (ACD_COLLECTOR_JOURNAL_MAX_BYTES)."""


class JournalUnavailable(RuntimeError):
    """The journal cannot be written (disk error, writer stopped)."""


def event_line(record: StampedRecord) -> bytes:
    return EVENT + encode_stamped_line(record)


def rejected_line(
    product: str | None, received_us: int, code: str, reason: str, payload: str
) -> bytes:
    row = [str(uuid.uuid4()), product, received_us, "collector", code, reason, payload]
    return REJECTED + orjson.dumps(row) + b"\n"


def _segments(directory: Path) -> list[tuple[int, Path]]:
    found = []
    for path in directory.glob("*.journal"):
        with contextlib.suppress(ValueError):
            found.append((int(path.stem), path))
    return sorted(found)


def _read_checkpoint(directory: Path) -> tuple[int, int]:
    try:
        seq, offset = (directory / "checkpoint").read_text().split()
        return int(seq), int(offset)
    except (OSError, ValueError):
        return 0, 0


def _write_checkpoint(directory: Path, seq: int, offset: int) -> None:
    # Not fsynced: a lost checkpoint only makes the (idempotent) load run again.
    tmp = directory / "checkpoint.tmp"
    tmp.write_text(f"{seq} {offset}\n")
    os.replace(tmp, directory / "checkpoint")


def _lock_slot(directory: Path) -> int | None:
    """An exclusive lock on the slot, or None when another process holds it."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


@dataclass
class _Pending:
    data: bytes
    done: concurrent.futures.Future[None]


class Journal:
    """This process's slot: the group-commit writer (see the module docstring)."""

    def __init__(self, root: Path, max_bytes: int, *, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes
        # Loaded segments are deleted once the writer has moved on: a small budget gets
        # small segments, so that loaded bytes do not linger against it.
        self.segment_bytes = max(4096, min(segment_bytes, max_bytes // 4))
        self.loaded_offset = 0  # how much of the current segment the loader has stored
        self.directory = root
        self._lock_fd: int | None = None
        self._cond = threading.Condition()
        self._pending: list[_Pending] = []
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._fd = -1
        self.seq = 0
        self.offset = 0  # bytes written and fsynced in the current segment
        self.durable = (0, 0)  # (segment, offset) the loader may read up to
        self.disk_bytes = 0
        self._bytes_lock = threading.Lock()
        self.broken: str | None = None
        self.on_durable: Callable[[], None] = lambda: None

    # -- life cycle

    def open(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for n in range(10_000):
            directory = self.root / f"slot-{n}"
            fd = _lock_slot(directory)
            if fd is not None:
                self.directory, self._lock_fd = directory, fd
                break
        else:  # pragma: no cover - ten thousand live processes
            raise JournalUnavailable(f"no free journal slot under {self.root}")
        existing = _segments(self.directory)
        self.disk_bytes = sum(path.stat().st_size for _, path in existing)
        self._new_segment((existing[-1][0] if existing else 0) + 1)
        self._thread = threading.Thread(target=self._run, name="collector-journal", daemon=True)
        self._thread.start()

    def close(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- writing

    def unloaded_bytes(self) -> int:
        return max(0, self.disk_bytes - self.loaded_offset)

    def over_budget(self) -> bool:
        return self.unloaded_bytes() >= self.max_bytes

    def mark_loaded(self, seq: int, offset: int) -> None:
        self.loaded_offset = offset if seq == self.seq else 0

    async def append(self, data: bytes) -> None:
        """Return once `data` (whole lines) is fsynced; raise JournalFull/JournalUnavailable."""
        if self.over_budget():
            raise JournalFull(
                f"the journal holds {self.unloaded_bytes()} bytes not yet loaded, "
                f"at its budget of {self.max_bytes}"
            )
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        with self._cond:
            if self._stopping or self.broken is not None:
                raise JournalUnavailable(self.broken or "the collector is stopping")
            self._pending.append(_Pending(data, done))
            self._cond.notify()
        await asyncio.wrap_future(done)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._stopping:
                    self._cond.wait()
                if not self._pending and self._stopping:
                    return
                group, self._pending = self._pending, []
            try:
                self._commit(group)
            except Exception as exc:  # a bug: never leave a request waiting for ever
                log.exception("the journal writer failed")
                self.broken = f"the journal writer failed: {type(exc).__name__}"
                self._fail(group, JournalUnavailable(self.broken))

    def _commit(self, group: list[_Pending]) -> None:
        """Write and fdatasync one group, then wake its requests."""
        data = b"".join(item.data for item in group)
        started = time.perf_counter()
        try:
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            os.fdatasync(self._fd)
        except OSError as exc:
            # The segment may now end in a partial line: move to a new one.
            self._fail(group, JournalUnavailable(f"cannot write the journal: {exc.strerror}"))
            with contextlib.suppress(OSError):
                self._new_segment(self.seq + 1)
            return
        metrics.JOURNAL_FSYNC_SECONDS.observe(time.perf_counter() - started)
        metrics.JOURNAL_GROUP_REQUESTS.observe(len(group))
        self.offset += len(data)
        with self._bytes_lock:
            self.disk_bytes += len(data)
        self.durable = (self.seq, self.offset)
        metrics.JOURNAL_BYTES.set(self.disk_bytes)
        for item in group:
            if not item.done.done():
                item.done.set_result(None)
        self.on_durable()
        if self.offset >= self.segment_bytes:
            try:
                self._new_segment(self.seq + 1)
            except OSError as exc:
                self.broken = f"cannot start a journal segment: {exc.strerror}"

    def _fail(self, group: Sequence[_Pending], exc: Exception) -> None:
        for item in group:
            if not item.done.done():
                item.done.set_exception(exc)

    def _new_segment(self, seq: int) -> None:
        path = self.directory / f"{seq:012d}.journal"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the new file's name is durable before anything in it is acknowledged
        finally:
            os.close(dir_fd)
        old, self._fd = self._fd, fd
        if old >= 0:
            os.close(old)
        self.seq, self.offset = seq, 0
        self.loaded_offset = 0
        self.durable = (seq, 0)
        self.broken = None

    def release_bytes(self, count: int) -> None:
        with self._bytes_lock:
            self.disk_bytes = max(0, self.disk_bytes - count)
        metrics.JOURNAL_BYTES.set(self.disk_bytes)


class Loader:
    """One thread that moves the journal into the warehouse (see the module docstring)."""

    def __init__(
        self,
        journal: Journal,
        target: WarehouseTarget,
        *,
        sink_factory: Callable[[WarehouseTarget], StampedSink] = open_sink,
        idle_seconds: float = 1.0,
    ) -> None:
        self.journal = journal
        self.target = target
        self.sink_factory = sink_factory
        self.idle_seconds = idle_seconds
        self._sink: StampedSink | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.failures = 0
        self.last_error: str | None = None
        self.last_success: float | None = None
        journal.on_durable = self._wake.set
        seq, offset = _read_checkpoint(journal.directory)
        self.position = (seq, offset)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="collector-loader", daemon=True)
        self._thread.start()

    def stop(self, *, drain_seconds: float = 5.0) -> None:
        """Load what is durable (for at most `drain_seconds`), then stop."""
        deadline = time.monotonic() + drain_seconds
        while self.pending_bytes() > 0 and time.monotonic() < deadline and self.failures == 0:
            self._wake.set()
            time.sleep(0.05)
        self._stopping = True
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._close_sink()

    def pending_bytes(self) -> int:
        seq, offset = self.position
        durable_seq, durable_offset = self.journal.durable
        if seq == durable_seq:
            return max(0, durable_offset - offset)
        return max(1, self.journal.disk_bytes)

    # -- the loop

    def _run(self) -> None:
        last_orphan_scan = 0.0
        while not self._stopping:
            try:
                progressed = self._load_own()
                if time.monotonic() - last_orphan_scan > 5.0:
                    last_orphan_scan = time.monotonic()
                    self._load_orphans()
            except Exception as exc:
                self._failed(exc)
                self._stop.wait(self._backoff())  # new writes do not cut the backoff short
                continue
            if self.failures:
                log.info("warehouse writable again after %d failed load(s)", self.failures)
            self.failures = 0
            metrics.JOURNAL_PENDING_BYTES.set(self.pending_bytes())
            if not progressed:
                self._wake.wait(self.idle_seconds)
                self._wake.clear()

    def _backoff(self) -> float:
        # One attempt every few seconds at most costs a down warehouse nothing, and a DuckDB
        # file held by `acd-warehouse build` is taken again soon after the build.
        return float(min(MAX_BACKOFF_SECONDS, 0.1 * 2 ** min(self.failures, 9)))

    def _failed(self, exc: BaseException) -> None:
        self.failures += 1
        self._close_sink()
        self.last_error = f"{type(exc).__name__}: {_first_line(exc)}"
        metrics.LOAD_FAILURES.inc()
        if self.failures == 1 or self.failures % 20 == 0:
            log.warning(
                "cannot load the journal into %s (attempt %d, will retry): %s",
                self.target.redacted(),
                self.failures,
                self.last_error,
            )

    def _load_own(self) -> bool:
        """Load one batch of this process's slot; True if anything was loaded."""
        directory = self.journal.directory
        seq, offset = self.position
        durable_seq, durable_offset = self.journal.durable
        segments = [(n, path) for n, path in _segments(directory) if n <= durable_seq]
        for n, path in segments:
            if n < seq:  # loaded before the checkpoint: a leftover
                self._delete(path)
                continue
            start = offset if n == seq else 0
            end = durable_offset if n == durable_seq else path.stat().st_size
            if start >= end:
                if n < durable_seq:
                    self._delete(path)
                    self.position = (n + 1, 0)
                    _write_checkpoint(directory, n + 1, 0)
                    seq, offset = n + 1, 0
                    continue
                self.position = (n, start)
                return False
            stop = self._load_range(path, start, end, torn_tail_ok=n < durable_seq)
            self.position = (n, stop)
            self.journal.mark_loaded(n, stop)
            _write_checkpoint(directory, n, stop)
            return True
        return False

    def _load_orphans(self) -> None:
        """Load slots no live process holds (a crashed process, fewer workers than before)."""
        for directory in sorted(self.journal.root.glob("slot-*")):
            if directory == self.journal.directory or not _segments(directory):
                continue
            fd = _lock_slot(directory)
            if fd is None:
                continue
            try:
                seq, offset = _read_checkpoint(directory)
                for n, path in _segments(directory):
                    if n < seq:
                        path.unlink(missing_ok=True)
                        continue
                    start = offset if n == seq else 0
                    end = path.stat().st_size
                    while start < end:
                        start = self._load_range(path, start, end, torn_tail_ok=True)
                        _write_checkpoint(directory, n, start)
                    path.unlink(missing_ok=True)
                    log.info("loaded the journal segment %s left by an earlier process", path.name)
            finally:
                os.close(fd)

    def _delete(self, path: Path) -> None:
        with contextlib.suppress(OSError):
            size = path.stat().st_size
            path.unlink()
            self.journal.release_bytes(size)

    def _load_range(self, path: Path, start: int, end: int, *, torn_tail_ok: bool) -> int:
        """Load the complete lines of one batch from [start, end); return where it stopped.

        `torn_tail_ok`: the segment is closed, so a last line without its newline is the
        unacknowledged remains of a crash, skipped."""
        with open(path, "rb") as file:
            file.seek(start)
            data = file.read(min(end - start, LOAD_BATCH_BYTES))
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            if torn_tail_ok and start + len(data) >= end:
                log.warning("skipped a torn line at the end of journal segment %s", path.name)
                return end
            raise JournalUnavailable(f"a journal line is longer than {LOAD_BATCH_BYTES} bytes")
        lines = data[:cut].splitlines(keepends=True)
        for index in range(0, len(lines), LOAD_BATCH_LINES):
            self._load_lines(lines[index : index + LOAD_BATCH_LINES])
        return start + cut

    def _load_lines(self, lines: Sequence[bytes]) -> None:
        events: list[bytes] = []
        rejected: list[RejectedRecord] = []
        for line in lines:
            kind, body = line[:1], line[1:]
            if kind == EVENT:
                events.append(body)
            elif kind == REJECTED:
                with contextlib.suppress(ValueError):
                    rejected.append(tuple(orjson.loads(body)))
        started = time.perf_counter()
        sink = self._open_sink()
        try:
            if events:
                refused: list[tuple[bytes, BaseException]] = []
                inserted = self._write_events(sink, events, refused)
                metrics.EVENTS_LOADED.inc(inserted)
                metrics.EVENTS_DEDUPLICATED.inc(len(events) - len(refused) - inserted)
                rejected += [_refused_row(body, exc) for body, exc in refused]
            if rejected:
                sink.write_rejected(rejected)
        finally:
            if self.target.backend == "duckdb":
                self._close_sink()  # let `acd-warehouse build` have the file between batches
        metrics.LOAD_SECONDS.observe(time.perf_counter() - started)
        self.last_success = time.time()
        self.last_error = None

    def _write_events(
        self, sink: StampedSink, lines: list[bytes], refused: list[tuple[bytes, BaseException]]
    ) -> int:
        """Insert the lines; bisect a batch the warehouse refuses for good. Returns new rows."""
        try:
            write_lines = getattr(sink, "write_stamped_lines", None)
            if write_lines is not None:
                return int(write_lines(lines))
            return sink.write_stamped([tuple(orjson.loads(line)) for line in lines])
        except Exception as exc:
            if not is_permanent(exc):
                raise
            if len(lines) == 1:
                refused.append((lines[0], exc))
                return 0
        middle = len(lines) // 2
        return self._write_events(sink, lines[:middle], refused) + self._write_events(
            sink, lines[middle:], refused
        )

    def _open_sink(self) -> StampedSink:
        if self._sink is None:
            self._sink = self.sink_factory(self.target)
        return self._sink

    def _close_sink(self) -> None:
        sink, self._sink = self._sink, None
        if sink is not None:
            with contextlib.suppress(Exception):
                sink.close()


# The rejection of a row the warehouse refused is named after its event_id, so that loading
# the same journal line twice records it once.
_REFUSED_NAMESPACE = uuid.UUID("5d0f0b43-8f57-4d6c-b0a8-7c1e3f0e9a21")


def _refused_row(line: bytes, exc: BaseException) -> RejectedRecord:
    fields: Any = orjson.loads(line)
    payload = line.decode(errors="replace")[: 32 * 1024]
    return (
        str(uuid.uuid5(_REFUSED_NAMESPACE, str(fields[0]))),
        fields[1],
        fields[10],
        "collector",
        "warehouse_refused",
        f"the warehouse refused the row: {type(exc).__name__}: {_first_line(exc)}"[:1000],
        payload.replace("\x00", "\ufffd"),
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
