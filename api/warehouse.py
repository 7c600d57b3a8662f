"""How the read API reaches the warehouse (docs/API.md, Access to the warehouse).

Requests read through `session()`, on the event loop: each statement is awaited, so a request
costs no hop to a worker thread (on PostgreSQL). Code that runs its own blocking queries (the
dashboard) runs in a worker thread through the session's `blocking`, and the audit log writes
with `insert_many` from its own thread (on PostgreSQL with `COPY`: a fraction of the CPU of an
`insert` per row).

PostgreSQL: connections as a login that can only read the marts (and the keys and build times)
and insert audit rows, each with a statement timeout: an asyncio pool for requests and a small
blocking one for the dashboard and the audit log.

DuckDB: an embedded file that one writer process at a time may hold, so the API holds it only
while it is being read: requests share one read-only connection, kept open while requests keep
coming and closed after `DUCKDB_IDLE_SECONDS` without one, or at once when a build takes the
build lock (`warehouse_db.build_lock`: the build then waits a moment for the file); the audit log
is written in short exclusive moments between requests. The file is read in worker threads
(DuckDB's calls block). While a build holds the lock or the file, the answer is 503 with
`Retry-After` at once; a query past its time limit is interrupted, also 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

from acd_analytics.warehouse_url import WarehouseTarget

from warehouse_db.build_lock import duckdb_build_waiting

BUSY_RETRY_AFTER = "5"
# DuckDB: how long the read-only connection stays open after the last request (reopening it
# costs tens of milliseconds and DuckDB's block cache), and how often its holder looks for a
# build that wants the file.
DUCKDB_IDLE_SECONDS = 1.0
DUCKDB_WATCH_SECONDS = 0.1


T = TypeVar("T")


class WarehouseBusy(RuntimeError):
    """The warehouse cannot answer now (held by a build, unreachable, or too slow)."""


class Session(Protocol):
    async def rows(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    async def blocking(self, work: Callable[[Any], T]) -> T:
        """`work(connection)` in a worker thread, with a blocking connection of the driver (or a
        DuckDB cursor), for code that runs its own queries (the dashboard); the time limit
        still applies on PostgreSQL."""
        ...


class Reader(Protocol):
    backend: str
    marker: str

    async def open(self) -> None:
        """Ready the request pool (on the event loop that will use it)."""
        ...

    def session(self) -> contextlib.AbstractAsyncContextManager[Session]: ...

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None: ...

    async def close(self) -> None: ...


# -- PostgreSQL


@contextlib.contextmanager
def _busy_when_postgres_cannot() -> Iterator[None]:
    """PostgreSQL's errors that mean "not now" (a query past its time limit, no free
    connection, a lost server) raised as WarehouseBusy; any other exception as it is."""
    import psycopg
    from psycopg_pool import PoolTimeout

    try:
        yield
    except psycopg.errors.QueryCanceled:
        raise WarehouseBusy("the query exceeded its time limit") from None
    except PoolTimeout:
        raise WarehouseBusy("no PostgreSQL connection became free in time") from None
    except psycopg.OperationalError as exc:
        raise WarehouseBusy(f"PostgreSQL: {type(exc).__name__}") from None


class _PostgresSession:
    def __init__(self, conn: Any, blocking_pool: Any) -> None:
        self.conn = conn
        self.blocking_pool = blocking_pool

    async def rows(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with _busy_when_postgres_cannot():
            cursor = await self.conn.execute(statement, params)
            return list(await cursor.fetchall())

    async def blocking(self, work: Callable[[Any], T]) -> T:
        return await asyncio.to_thread(self._blocking, work)

    def _blocking(self, work: Callable[[Any], T]) -> T:
        with _busy_when_postgres_cannot(), self.blocking_pool.connection() as conn:
            return work(conn)


class PostgresReader:
    backend = "postgres"
    marker = "%s"
    # The dashboard and the audit log: one connection each at most, opened when first needed.
    BLOCKING_POOL_SIZE = 2

    def __init__(self, conninfo: str, *, pool_size: int, statement_timeout_ms: int) -> None:
        from psycopg_pool import AsyncConnectionPool, ConnectionPool

        settings: dict[str, Any] = {
            "kwargs": {
                "autocommit": True,
                "options": f"-c statement_timeout={int(statement_timeout_ms)} -c TimeZone=UTC",
            },
            "timeout": max(statement_timeout_ms / 1000, 1.0),
        }
        self.pool = AsyncConnectionPool(
            conninfo, min_size=1, max_size=pool_size, open=False, name="acd-api", **settings
        )
        self.blocking_pool = ConnectionPool(
            conninfo,
            min_size=0,
            max_size=self.BLOCKING_POOL_SIZE,
            open=True,
            name="acd-api-blocking",
            **settings,
        )

    async def open(self) -> None:
        await self.pool.open()

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        with _busy_when_postgres_cannot():
            async with self.pool.connection() as conn:
                yield _PostgresSession(conn, self.blocking_pool)

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        copy_in = f"copy {table} ({', '.join(columns)}) from stdin"
        with (
            self.blocking_pool.connection() as conn,
            conn.cursor() as cursor,
            cursor.copy(copy_in) as copy,
        ):
            for row in rows:
                copy.write_row(row)

    async def close(self) -> None:
        await self.pool.close()
        await asyncio.to_thread(self.blocking_pool.close)


# -- DuckDB


class _DuckDBSession:
    def __init__(self, cursor: Any, timeout_s: float) -> None:
        self.cursor = cursor
        self.timeout_s = timeout_s

    async def rows(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return await self._in_thread(self._rows, statement, params)

    async def blocking(self, work: Callable[[Any], T]) -> T:
        # This session's cursor: taking another would wait behind a waiting writer, which
        # waits for this session to end.
        return await self._in_thread(work, self.cursor)

    async def _in_thread(self, work: Callable[..., T], *args: Any) -> T:
        """`work(*args)` in a worker thread. If the request is cancelled meanwhile, its query
        is interrupted and the thread waited for: the session's end closes the cursor, which
        must not happen under a running query."""
        running = asyncio.ensure_future(asyncio.to_thread(work, *args))
        try:
            return await asyncio.shield(running)
        except asyncio.CancelledError:
            self.cursor.interrupt()
            await asyncio.wait([running])
            running.exception()  # retrieved: nobody is waiting for the answer
            raise

    def _rows(self, statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        import duckdb

        timer = threading.Timer(self.timeout_s, self.cursor.interrupt)
        timer.start()
        try:
            return list(self.cursor.execute(statement, list(params)).fetchall())
        except duckdb.InterruptException:
            raise WarehouseBusy("the query exceeded its time limit") from None
        finally:
            timer.cancel()


class DuckDBReader:
    """Readers share one read-only connection; a writer (the audit log) has the file alone.

    The connection is opened by the first request after a pause and closed by a watcher
    thread once no request has used it for `idle_seconds`, or as soon as none is using it
    when a build holds the build lock; from then until the build ends, requests get 503."""

    backend = "duckdb"
    marker = "?"

    def __init__(
        self,
        path: str,
        *,
        statement_timeout_ms: int,
        idle_seconds: float = DUCKDB_IDLE_SECONDS,
    ) -> None:
        self.path = path
        self.timeout_s = statement_timeout_ms / 1000
        self.idle_seconds = idle_seconds
        self._cond = threading.Condition()
        self._conn: Any = None
        self._readers = 0
        self._last_used = 0.0
        self._writing = False
        self._writers_waiting = 0
        self._watcher: threading.Thread | None = None

    async def open(self) -> None:
        """Nothing to ready: the file is opened by the first request."""

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        acquiring = asyncio.ensure_future(asyncio.to_thread(self._acquire))
        try:
            cursor = await asyncio.shield(acquiring)
        except asyncio.CancelledError:
            # The thread goes on and takes a reader's place: give it back once it has, or the
            # audit log's writer would wait for it forever.
            acquiring.add_done_callback(self._release_acquired)
            raise
        try:
            yield _DuckDBSession(cursor, self.timeout_s)
        finally:
            self._release(cursor)

    def _release_acquired(self, acquiring: asyncio.Future[Any]) -> None:
        if acquiring.exception() is None:
            self._release(acquiring.result())

    def _acquire(self) -> Any:
        """A cursor of the shared read-only connection, opened if need be (blocks while the
        file is being written)."""
        import duckdb

        with self._cond:
            while self._writing or self._writers_waiting:
                self._cond.wait()
            if duckdb_build_waiting(self.path):
                self._close_unused()
                raise WarehouseBusy(
                    "a build is taking the warehouse file (build lock held): retry shortly"
                )
            if self._conn is None:
                try:
                    self._conn = duckdb.connect(self.path, read_only=True)
                except duckdb.Error as exc:
                    raise WarehouseBusy(_busy_message(exc)) from None
                self._watch()
            self._readers += 1
            return self._conn.cursor()

    def _release(self, cursor: Any) -> None:
        cursor.close()
        with self._cond:
            self._readers -= 1
            self._last_used = time.monotonic()
            if self._readers == 0:
                self._cond.notify_all()

    def _watch(self) -> None:
        """Start the thread that closes the connection when idle or wanted by a build (with
        `_cond` held, the connection just opened)."""
        if self._watcher is not None and self._watcher.is_alive():
            return
        self._watcher = threading.Thread(
            target=self._watch_loop, name="acd-api-duckdb", daemon=True
        )
        self._watcher.start()

    def _watch_loop(self) -> None:
        with self._cond:
            while self._conn is not None:
                self._cond.wait(DUCKDB_WATCH_SECONDS)
                if self._readers or self._conn is None:
                    continue
                idle = time.monotonic() - self._last_used >= self.idle_seconds
                if idle or duckdb_build_waiting(self.path):
                    self._close_unused()

    def _close_unused(self) -> None:
        """Close the connection if no request is using it (with `_cond` held)."""
        if self._conn is not None and not self._readers:
            self._conn.close()
            self._conn = None
            self._cond.notify_all()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the file alone in this process: no reader or other writer meanwhile."""
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writing or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writing = True
            self._close_unused()  # a read-write connection cannot share the file with it
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        import duckdb

        statement = (
            f"insert into {table} ({', '.join(columns)}) values ({', '.join('?' * len(columns))})"
        )

        with self.exclusive():
            try:
                conn = duckdb.connect(self.path)
            except duckdb.Error as exc:
                raise WarehouseBusy(_busy_message(exc)) from None
            try:
                conn.executemany(statement, [list(row) for row in rows])
            finally:
                conn.close()

    async def close(self) -> None:
        with self._cond:
            self._close_unused()


def _busy_message(exc: Exception) -> str:
    text = str(exc)
    if "lock" in text.lower():
        return "the warehouse file is held by another process (a build?): retry shortly"
    return "the warehouse file cannot be opened: " + text.splitlines()[0][:200]


def open_reader(target: WarehouseTarget, *, pool_size: int, statement_timeout_ms: int) -> Reader:
    if target.backend == "postgres":
        return PostgresReader(
            target.postgres_conninfo or "",
            pool_size=pool_size,
            statement_timeout_ms=statement_timeout_ms,
        )
    assert target.duckdb_path is not None
    return DuckDBReader(target.duckdb_path, statement_timeout_ms=statement_timeout_ms)
