"""Write a batch of event records into `shared_events` with each backend's fastest path.

- PostgreSQL: `COPY … FROM STDIN` into a temporary staging table, then one
  `INSERT … SELECT … ON CONFLICT (event_id) DO NOTHING`, in one transaction. Staging is needed
  twice over: `COPY` cannot skip duplicates, and PostgreSQL refuses `COPY FROM` into a table
  with row-level security for roles that do not own it (the product roles of SPEC §5.1).
- DuckDB: the batch becomes one Arrow table and one `INSERT OR IGNORE … SELECT … FROM` it.
  A DuckDB file is open for writing by one process at a time; inside a process the sink keeps
  one connection for its lifetime, and `close()` lets go of the file.

A sink is used by one thread at a time (the consumer, or the caller in `sync_mode`). Drivers
are imported lazily so that each extra (`acd-analytics[postgres]`, `[duckdb]`) is optional.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any, Protocol

from acd_analytics.events import EventRecord
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


class Sink(Protocol):
    """Where batches go. `write` commits the batch or raises; duplicates are ignored."""

    def write(self, records: Sequence[EventRecord], sent_at_us: int, library: str) -> None: ...

    def close(self) -> None: ...

    def abandon(self) -> None:
        """Forget the connection without closing it (after `fork`, it is the parent's)."""
        ...


def open_sink(target: WarehouseTarget) -> Sink:
    if target.backend == "postgres":
        return PostgresSink(target)
    return DuckDBSink(target)


class PostgresSink:
    STAGE = "acd_sdk_stage"

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
        except BaseException:
            self._drop()
            raise

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
    def __init__(self, target: WarehouseTarget) -> None:
        try:
            import duckdb
            import pyarrow
        except ImportError as exc:
            raise MissingDriver(
                "the DuckDB warehouse needs duckdb and pyarrow: pip install 'acd-analytics[duckdb]'"
            ) from exc
        self._duckdb = duckdb
        self._pa = pyarrow
        self._path = target.duckdb_path or ":memory:"
        self._conn: Any = None

    def _connection(self) -> Any:
        if self._conn is None:
            self._conn = self._duckdb.connect(self._path)
        return self._conn

    def write(self, records: Sequence[EventRecord], sent_at_us: int, library: str) -> None:
        pa = self._pa
        columns = list(zip(*records, strict=True))
        string = pa.string()
        table = pa.table(
            {
                "event_id": pa.array(columns[0], string),
                "product": pa.array(columns[1], string),
                "event_name": pa.array(columns[2], string),
                "user_id": pa.array(columns[3], string),
                "anonymous_id": pa.array(columns[4], string),
                "session_id": pa.array(columns[5], string),
                "occurred_at": pa.array(columns[6], pa.int64()).cast(pa.timestamp("us", tz="UTC")),
                "properties": pa.array(columns[7], string),
                "context": pa.array(columns[8], string),
            }
        )
        try:
            cur = self._connection().cursor()
            try:
                cur.register("acd_sdk_batch", table)
                cur.execute(
                    "insert or ignore into shared_events (event_id, product, event_name, "
                    "user_id, anonymous_id, session_id, occurred_at, sent_at, properties, "
                    "context, library) select event_id::uuid, product, event_name, user_id, "
                    "anonymous_id, session_id, occurred_at, make_timestamptz($1::bigint), "
                    "properties::json, context::json, $2 from acd_sdk_batch",
                    [sent_at_us, library],
                )
            finally:
                cur.close()
        except BaseException:
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
