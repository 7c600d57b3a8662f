"""The local journal: append-only segment files that make a returned `track` call durable.

Layout: `<spool_dir>/<backend>-<name>-<hash of the target>/seg-<ns>-<pid>-<rand>.jsonl`, one
event per line (see `events.encode_line`), and beside each segment a `.ckpt` file holding the
byte offset up to which the warehouse has committed its events.

- `track` appends its line with one `write(2)` before it returns: the line is then in the
  operating system's page cache and survives `kill -9` of the process. It is not fsynced per
  call; `Segment.sync()` (called after every delivered batch and at shutdown) fsyncs, so a power
  loss can lose at most the events of the last moments that were not yet delivered.
- A writer holds an exclusive `flock` on its segment for as long as it owns it. The kernel
  drops the lock when the process dies, so any segment whose lock can be taken is an orphan
  (its writer crashed or exited with undelivered events): the next client on the same spool
  directory claims it, delivers it from its checkpoint and deletes it.
- A checkpoint is written only after the warehouse committed; a stale checkpoint only causes a
  re-send, which `event_id` makes harmless.
- Events the warehouse refuses for good (see `transport.is_permanent`) are appended, with the
  error, to `<spool_dir>/<target>/quarantine/<segment name>.jsonl` (fsynced) before the
  checkpoint moves past them. The SDK never reads or deletes quarantine files: they are for a
  person to inspect, fix and re-track (or delete).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

from acd_analytics.events import EventRecord, decode_line
from acd_analytics.warehouse_url import WarehouseTarget

SPOOL_DIR_SETTING = "ACD_SPOOL_DIR"
SEGMENT_GLOB = "seg-*.jsonl"
QUARANTINE_DIR = "quarantine"
_READ_CHUNK = 1 << 22


def default_spool_dir() -> Path:
    """`ACD_SPOOL_DIR`, else `$XDG_CACHE_HOME/acd-analytics`, else `~/.cache/acd-analytics`."""
    configured = os.environ.get(SPOOL_DIR_SETTING)
    if configured:
        return Path(configured)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "acd-analytics"


def target_directory(spool_dir: Path, target: WarehouseTarget) -> Path:
    """The journal folder of one warehouse (and login), so two warehouses never mix.

    The password is left out of the key: rotating it must not orphan the journal.
    """
    if target.backend == "duckdb":
        identity = f"duckdb|{target.duckdb_path}"
        name = Path(target.duckdb_path or "memory").stem
    else:
        identity = f"postgres|{target.user}@{target.host}:{target.port}/{target.database}"
        name = f"{target.database}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:40]
    return spool_dir / f"{target.backend}-{name}-{digest}"


class Segment:
    """One journal file, open and exclusively locked by this process."""

    def __init__(self, path: Path, fd: int, *, size: int, committed: int, seq: int) -> None:
        self.path = path
        self.fd = fd
        self.size = size  # bytes of complete lines in the file
        self.committed = committed  # bytes whose events the warehouse has committed
        self.seq = seq  # order of this client's own segments (0 for orphans)
        self.sealed = False  # no more appends
        self.closed = False

    @property
    def checkpoint_path(self) -> Path:
        return self.path.with_name(self.path.name + ".ckpt")

    def append(self, data: bytes) -> int:
        """Append whole lines with write(2); returns the new size."""
        written = os.write(self.fd, data)
        if written != len(data):  # only on a full disk or a signal; finish or raise
            view = memoryview(data)[written:]
            while view:
                view = view[os.write(self.fd, view) :]
        self.size += len(data)
        return self.size

    def read(
        self, offset: int, end: int, max_records: int
    ) -> tuple[list[EventRecord], list[bytes], int, int]:
        """Complete lines in [offset, end): (records, their lines with the newline, next offset,
        unreadable lines skipped)."""
        records: list[EventRecord] = []
        lines: list[bytes] = []
        bad = 0
        while offset < end and len(records) < max_records:
            chunk = os.pread(self.fd, min(_READ_CHUNK, end - offset), offset)
            if not chunk:
                break
            stop = chunk.rfind(b"\n")
            if stop < 0:
                if len(chunk) < _READ_CHUNK:
                    # A torn last line (the write never completed): skip it.
                    return records, lines, end, bad + 1
                raise ValueError(f"journal line longer than {_READ_CHUNK} bytes in {self.path}")
            position = 0
            while position <= stop and len(records) < max_records:
                newline = chunk.index(b"\n", position) + 1
                line = chunk[position:newline]
                try:
                    records.append(decode_line(line))
                except ValueError:
                    bad += 1
                else:
                    lines.append(line)
                position = newline
            offset += position
        return records, lines, offset, bad

    def write_checkpoint(self, offset: int) -> None:
        self.committed = offset
        tmp = self.checkpoint_path.with_suffix(".tmp")
        tmp.write_text(str(offset))
        os.replace(tmp, self.checkpoint_path)

    def sync(self) -> None:
        with contextlib.suppress(OSError):
            os.fsync(self.fd)

    def remove(self) -> None:
        """Delete the file and its checkpoint (everything in it is committed), then close."""
        for path in (self.path, self.checkpoint_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        self.close()

    def close(self) -> None:
        """Close and so release the lock; undelivered events stay for the next client."""
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                os.close(self.fd)

    def forget(self) -> None:
        """In a forked child: drop the inherited descriptor; the parent keeps the lock."""
        self.close()


class Spool:
    """The journal folder of one warehouse target."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._made = False

    def _ensure(self) -> None:
        if not self._made:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._made = True

    def new_segment(self, seq: int) -> Segment:
        """Create, lock, then publish a segment (so nobody mistakes it for an orphan)."""
        self._ensure()
        stem = f"seg-{time.time_ns():020d}-{os.getpid()}-{os.urandom(4).hex()}"
        tmp = self.directory / f".{stem}.creating"
        fd = os.open(tmp, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        path = self.directory / f"{stem}.jsonl"
        os.rename(tmp, path)
        return Segment(path, fd, size=0, committed=0, seq=seq)

    def quarantine(self, name: str, lines: list[bytes]) -> Path:
        """Append these lines (each ending in a newline) to `quarantine/<name>.jsonl`, fsynced."""
        self._ensure()
        directory = self.directory / QUARANTINE_DIR
        directory.mkdir(exist_ok=True)
        path = directory / f"{name}.jsonl"
        data = b"".join(lines)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        return path

    def claim_orphans(self, exclude: set[Path]) -> Iterator[Segment]:
        """Lock and yield every segment no live writer holds, oldest first."""
        if not self.directory.is_dir():
            return
        for path in sorted(self.directory.glob(SEGMENT_GLOB)):
            if path in exclude:
                continue
            try:
                fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            if not path.exists():  # removed by the client that held it just before us
                os.close(fd)
                continue
            size = os.fstat(fd).st_size
            segment = Segment(path, fd, size=size, committed=0, seq=0)
            segment.sealed = True
            try:
                segment.committed = min(int(segment.checkpoint_path.read_text()), size)
            except (FileNotFoundError, ValueError):
                segment.committed = 0
            yield segment
