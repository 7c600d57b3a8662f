"""Write a batch of event records into `shared_events` with each backend's fastest path.

- PostgreSQL: `COPY … FROM STDIN` into a temporary staging table, then one
  `INSERT … SELECT … ON CONFLICT (event_id) DO NOTHING`, in one transaction. Staging is needed
  twice over: `COPY` cannot skip duplicates, and PostgreSQL refuses `COPY FROM` into a table
  with row-level security for roles that do not own it (the product roles of docs/REFERENCE.md, Tables the products write).
- DuckDB: the batch's journal lines go in as one string parameter of one
  `INSERT OR IGNORE … SELECT`, which splits and parses them inside DuckDB (see `DuckDBSink`).
  A DuckDB file is open for writing by one process at a time; inside a process the sink keeps
  one connection for its lifetime, and `close()` lets go of the file.

Both sinks also take `StampedRecord`s (`write_stamped`), whose `sent_at`, `received_at` and
`library` are per event rather than per batch (what a relay such as the collector needs), and
rows of `shared_events_rejected` (`write_rejected`), idempotent on `rejected_id`.

A sink is used by one thread at a time (the consumer, or the caller in `sync_mode`). Drivers
are imported lazily so that each extra (`acd-analytics[postgres]`, `[duckdb]`) is optional.

Errors are of two kinds (`is_permanent`). *Transient* ones (connection lost, server shutting
down, lock or statement timeouts, a missing table, a full disk) say nothing about the rows:
the consumer retries the batch with backoff, for as long as it takes. *Permanent* ones are the
rows' fault and would fail on every retry: constraint, check and row-level-security
violations, data errors (bad UUID, malformed JSON, NUL bytes, out-of-range values). The
consumer bisects such a batch to find the offending rows, delivers the others and moves those
to the quarantine (see `consumer.Delivery`). A custom sink signals a permanent error by raising
`RejectedRows`.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from typing import Any, Protocol

from acd_analytics.events import (
    EventRecord,
    RejectedRecord,
    StampedRecord,
    encode_line,
    encode_stamped_line,
)
from acd_analytics.warehouse_url import WarehouseTarget

COLUMNS = (
    "event_id",
    "product",
    "event_name",
    "user_id",
    "anonymous_id",
    "session_id",
    "occurred_at",
    "properties",
    "context",
)


class MissingDriver(ImportError):
    """The database driver for the warehouse URL is not installed."""


class RejectedRows(Exception):
    """The warehouse refuses (some of) these rows for good: retrying the same rows cannot help."""


class EventsQuarantined(Exception):
    """Passed to `on_error`: the warehouse refused these events for good; they were moved to
    the quarantine files `paths` (with the error of each) and delivery went on without them."""

    def __init__(self, event_ids: list[str], paths: list[str], cause: BaseException) -> None:
        super().__init__(
            f"{len(event_ids)} event(s) rejected by the warehouse moved to "
            f"{', '.join(paths)}: {type(cause).__name__}: {cause}"
        )
        self.event_ids = event_ids
        self.paths = paths
        self.__cause__ = cause


def is_permanent(exc: BaseException) -> bool:
    """True if `exc` blames the rows written (retrying them would fail again), not the link.

    PostgreSQL: integrity violations (SQLSTATE class 23: check, not-null, foreign key…), data
    exceptions (class 22: invalid text representation, untranslatable character, out of
    range…) and row-level-security violations (42501 with "row-level security" in the message;
    a plain "permission denied for table" is a grant missing for the whole role, so it stays
    transient until someone fixes the grant). DuckDB: `IntegrityError` (`ConstraintException`)
    and `DataError` (`ConversionException`, `OutOfRangeException`, `TypeMismatchException`).
    Everything else (connection, shutdown, lock, timeout, catalog, I/O errors) is transient.
    """
    if isinstance(exc, RejectedRows):
        return True
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None and isinstance(exc, psycopg.Error):
        errors = psycopg.errors
        if isinstance(exc, errors.IntegrityError | errors.DataError):
            return True
        return isinstance(exc, errors.InsufficientPrivilege) and "row-level security" in str(exc)
    duckdb = sys.modules.get("duckdb")
    if duckdb is not None and isinstance(exc, duckdb.Error):
        return isinstance(exc, duckdb.IntegrityError | duckdb.DataError)
    return False


class Sink(Protocol):
    """Where batches go. `write` commits the whole batch or nothing and raises; duplicates are
    ignored. Raise `RejectedRows` (or a driver error `is_permanent` knows) for rows that can
    never be written, anything else for a failure worth retrying."""

    def write(self, records: Sequence[EventRecord], sent_at_us: int, library: str) -> None: ...

    def close(self) -> None: ...

    def abandon(self) -> None:
        """Forget the connection without closing it (after `fork`, it is the parent's)."""
        ...


class StampedSink(Sink, Protocol):
    """A sink that also stores per-event stamps and rejected messages (both built-in sinks)."""

    def write_stamped(self, records: Sequence[StampedRecord]) -> int:
        """Commit the records (duplicates ignored); return how many rows were new."""
        ...

    def write_rejected(self, records: Sequence[RejectedRecord]) -> None: ...


def open_sink(target: WarehouseTarget) -> StampedSink:
    if target.backend == "postgres":
        return PostgresSink(target)
    return DuckDBSink(target)


class PostgresSink:
    STAGE = "acd_sdk_stage"
    LINES_STAGE = "acd_sdk_stage_lines"

    def __init__(self, target: WarehouseTarget, *, connect_timeout: int = 10) -> None:
        try:
            import psycopg
        except ImportError as exc:
            raise MissingDriver(
                "the PostgreSQL warehouse needs psycopg: pip install 'acd-analytics[postgres]'"
            ) from exc
        self._psycopg = psycopg
        self._conninfo = target.postgres_conninfo or ""
        self._connect_timeout = connect_timeout
        self._conn: Any = None

    def _connection(self) -> Any:
        if self._conn is None or self._conn.closed:
            conn = self._psycopg.connect(
                self._conninfo,
                connect_timeout=self._connect_timeout,
                application_name="acd-analytics",
            )
            conn.execute(
                f"create temporary table if not exists {self.STAGE} ("
                "event_id uuid, product text, event_name text, user_id text, "
                "anonymous_id text, session_id text, occurred_us bigint, "
                "properties text, context text) on commit delete rows"
            )
            conn.execute(
                f"create temporary table if not exists {self.LINES_STAGE} (line text) "
                "on commit delete rows"
            )
            conn.commit()
            self._conn = conn
        return self._conn

    def write(self, records: Sequence[EventRecord], sent_at_us: int, library: str) -> None:
        conn = self._connection()
        try:
            with conn.cursor() as cur:
                with cur.copy(
                    f"copy {self.STAGE} (event_id, product, event_name, user_id, anonymous_id, "
                    "session_id, occurred_us, properties, context) from stdin"
                ) as copy:
                    for record in records:
                        copy.write_row(record)
                cur.execute(
                    "insert into shared_events (event_id, product, event_name, user_id, "
                    "anonymous_id, session_id, occurred_at, sent_at, properties, context, "
                    "library) select event_id, product, event_name, user_id, anonymous_id, "
                    "session_id, timestamptz 'epoch' + occurred_us * interval '1 microsecond', "
                    "timestamptz 'epoch' + %s * interval '1 microsecond', "
                    f"properties::jsonb, context::jsonb, %s from {self.STAGE} "
                    "on conflict (event_id) do nothing",
                    (sent_at_us, library),
                )
            conn.commit()
        except BaseException as exc:
            self._recover(exc)
            raise

    def write_stamped(self, records: Sequence[StampedRecord]) -> int:
        try:
            lines = [encode_stamped_line(record) for record in records]
        except (TypeError, ValueError, AttributeError, IndexError) as exc:
            raise RejectedRows(f"cannot encode the record: {exc}") from exc
        return self.write_stamped_lines(lines)

    def write_stamped_lines(self, lines: Sequence[bytes]) -> int:
        """Insert the events of these lines (`events.encode_stamped_line`); return how many
        rows were new. The lines are copied as they are and PostgreSQL parses them, so no
        Python work is done per row (the collector's loader hands its journal over as is)."""
        conn = self._connection()
        try:
            with conn.cursor() as cur:
                with cur.copy(f"copy {self.LINES_STAGE} (line) from stdin") as copy:
                    # COPY's text format: a backslash is its escape character.
                    copy.write(b"".join(lines).replace(b"\\", b"\\\\"))
                cur.execute(
                    "insert into shared_events (event_id, product, event_name, user_id, "
                    "anonymous_id, session_id, occurred_at, sent_at, received_at, properties, "
                    "context, library) select (f->>0)::uuid, f->>1, f->>2, f->>3, f->>4, f->>5, "
                    "timestamptz 'epoch' + (f->>6)::bigint * interval '1 microsecond', "
                    "timestamptz 'epoch' + (f->>9)::bigint * interval '1 microsecond', "
                    "coalesce(timestamptz 'epoch' + (f->>10)::bigint * interval '1 microsecond', "
                    "current_timestamp), (f->>7)::jsonb, (f->>8)::jsonb, f->>11 "
                    f"from (select line::jsonb as f from {self.LINES_STAGE}) as parsed "
                    "on conflict (event_id) do nothing"
                )
                inserted = int(cur.rowcount)
            conn.commit()
            return inserted
        except BaseException as exc:
            self._recover(exc)
            raise

    def write_rejected(self, records: Sequence[RejectedRecord]) -> None:
        conn = self._connection()
        try:
            with conn.cursor() as cur:
                cur.executemany(
                    "insert into shared_events_rejected (rejected_id, product, received_at, "
                    "source, reason_code, reason, payload) values (%s, %s, "
                    "timestamptz 'epoch' + %s * interval '1 microsecond', %s, %s, %s, %s) "
                    "on conflict (rejected_id) do nothing",
                    records,
                )
            conn.commit()
        except BaseException as exc:
            self._recover(exc)
            raise

    def _recover(self, exc: BaseException) -> None:
        """After a failed write: keep a healthy connection (bisecting reuses it), else drop it."""
        conn = self._conn
        if conn is not None and not conn.closed and is_permanent(exc):
            try:
                conn.rollback()
                return
            except Exception:
                pass
        self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def close(self) -> None:
        self._drop()

    def abandon(self) -> None:
        if self._conn is not None:
            _ABANDONED.append(self._conn)
        self._conn = None


class DuckDBSink:
    """Hands DuckDB the batch's journal lines as one string and lets it parse them.

    Splitting the lines, reading their JSON arrays and checking `properties`/`context` all run
    inside DuckDB, which releases the GIL meanwhile: the consumer thread holds the GIL only to
    join the lines, so the host's threads keep running while a batch is stored. (Converting
    the records to Arrow columns in Python held it for that work, and the first `pa.array`
    imports pandas when it is installed: about half a second of a stalled host.)
    """

    INSERT = (
        "insert or ignore into shared_events (event_id, product, event_name, user_id, "
        "anonymous_id, session_id, occurred_at, sent_at, properties, context, library) "
        "select f[1]::uuid, f[2], f[3], f[4], f[5], f[6], make_timestamptz(f[7]::bigint), "
        "make_timestamptz($2::bigint), f[8]::json, f[9]::json, $3 "
        "from (select from_json(line, '[\"VARCHAR\"]') as f "
        "from (select unnest(string_split($1, chr(10))) as line) where line <> '')"
    )

    def __init__(self, target: WarehouseTarget) -> None:
        try:
            import duckdb
        except ImportError as exc:
            raise MissingDriver(
                "the DuckDB warehouse needs duckdb: pip install 'acd-analytics[duckdb]'"
            ) from exc
        self._duckdb = duckdb
        self._path = target.duckdb_path or ":memory:"
        self._conn: Any = None

    def _connection(self) -> Any:
        if self._conn is None:
            self._conn = self._duckdb.connect(self._path)
        return self._conn

    def write(self, records: Sequence[EventRecord], sent_at_us: int, library: str) -> None:
        try:
            lines = [encode_line(record) for record in records]
        except (TypeError, ValueError, AttributeError) as exc:  # a foreign or corrupt record
            raise RejectedRows(f"cannot encode the record: {exc}") from exc
        self.write_lines(lines, sent_at_us, library)

    def write_lines(self, lines: Sequence[bytes], sent_at_us: int, library: str) -> None:
        """Insert the events of these journal lines (`events.encode_line`, ASCII, one per line)."""
        try:
            text = b"".join(lines).decode()
        except UnicodeDecodeError as exc:  # only a foreign journal line can be non-ASCII
            raise RejectedRows(f"a journal line is not UTF-8: {exc}") from exc
        try:
            cur = self._connection().cursor()
            try:
                cur.execute(self.INSERT, [text, sent_at_us, library])
            finally:
                cur.close()
        except BaseException as exc:
            if not is_permanent(exc):  # a permanent error is the rows' fault: keep the connection
                self.close()
            raise

    STAMPED_INSERT = (
        "insert or ignore into shared_events (event_id, product, event_name, user_id, "
        "anonymous_id, session_id, occurred_at, sent_at, received_at, properties, context, "
        "library) "
        "select f[1]::uuid, f[2], f[3], f[4], f[5], f[6], make_timestamptz(f[7]::bigint), "
        "make_timestamptz(f[10]::bigint), "
        "coalesce(make_timestamptz(f[11]::bigint), current_timestamp), "
        "f[8]::json, f[9]::json, f[12] "
        "from (select from_json(line, '[\"VARCHAR\"]') as f "
        "from (select unnest(string_split($1, chr(10))) as line) where line <> '')"
    )

    def write_stamped(self, records: Sequence[StampedRecord]) -> int:
        try:
            lines = [encode_stamped_line(record) for record in records]
        except (TypeError, ValueError, AttributeError, IndexError) as exc:
            raise RejectedRows(f"cannot encode the record: {exc}") from exc
        return self.write_stamped_lines(lines)

    def write_stamped_lines(self, lines: Sequence[bytes]) -> int:
        """Insert the events of these lines (`events.encode_stamped_line`); return how many
        rows were new."""
        try:
            text = b"".join(lines).decode()
        except UnicodeDecodeError as exc:
            raise RejectedRows(f"a journal line is not UTF-8: {exc}") from exc
        try:
            cur = self._connection().cursor()
            try:
                rows = cur.execute(self.STAMPED_INSERT, [text]).fetchall()
            finally:
                cur.close()
        except BaseException as exc:
            if not is_permanent(exc):
                self.close()
            raise
        return int(rows[0][0]) if rows else 0

    def write_rejected(self, records: Sequence[RejectedRecord]) -> None:
        try:
            cur = self._connection().cursor()
            try:
                cur.execute("begin")
                cur.executemany(
                    "insert or ignore into shared_events_rejected (rejected_id, product, "
                    "received_at, source, reason_code, reason, payload) "
                    "values (?, ?, make_timestamptz(?::bigint), ?, ?, ?, ?)",
                    [list(record) for record in records],
                )
                cur.execute("commit")
            except BaseException:
                with contextlib.suppress(Exception):
                    cur.execute("rollback")
                raise
            finally:
                cur.close()
        except BaseException as exc:
            if not is_permanent(exc):
                self.close()
            raise

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def abandon(self) -> None:
        if self._conn is not None:
            _ABANDONED.append(self._conn)
        self._conn = None


# Connections inherited across fork: never closed in the child (closing a PostgreSQL
# connection sends a Terminate message on the parent's socket), never used either.
_ABANDONED: list[Any] = []
