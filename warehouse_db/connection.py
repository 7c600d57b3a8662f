"""Open a connection to the warehouse named by a URL (DuckDB file or PostgreSQL).

Callers get the driver's own connection (`duckdb.DuckDBPyConnection` or `psycopg.Connection`),
which both offer `execute(...).fetchall()`; `transaction` papers over their one difference
that matters here (DuckDB autocommits unless told otherwise).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from acd_analytics.warehouse_url import WarehouseTarget, parse_warehouse_url, resolve_warehouse_url


class WarehouseUnavailable(RuntimeError):
    """The warehouse could not be opened; the message names the (redacted) URL."""


def warehouse_target(url: str | None = None) -> WarehouseTarget:
    """The target for `url`, else `ACD_WAREHOUSE_URL`, else the embedded default."""
    return parse_warehouse_url(resolve_warehouse_url(url))


@contextmanager
def connect(target: WarehouseTarget, *, read_only: bool = False) -> Iterator[Any]:
    """Yield an open connection to `target`, closed on exit (nothing is committed implicitly).

    `read_only` opens a DuckDB file for reading, which can share the file with other readers
    of the same process (the read API's); a read-write connection needs it alone."""
    if target.backend == "duckdb":
        import duckdb

        assert target.duckdb_path is not None
        if target.duckdb_path != ":memory:" and not read_only:
            Path(target.duckdb_path).parent.mkdir(parents=True, exist_ok=True)
        try:
            conn: Any = duckdb.connect(target.duckdb_path, read_only=read_only)
        except duckdb.Error as exc:
            raise WarehouseUnavailable(
                f"cannot open DuckDB warehouse {target.redacted()}: {exc}"
            ) from exc
    else:
        import psycopg

        try:
            conn = psycopg.connect(target.postgres_conninfo or "", autocommit=True)
        except psycopg.Error as exc:
            raise WarehouseUnavailable(
                f"cannot connect to PostgreSQL warehouse {target.redacted()}: {_first_line(exc)}"
            ) from exc
    try:
        yield conn
    finally:
        conn.close()


@contextmanager
def transaction(conn: Any) -> Iterator[Any]:
    """Run the block in one transaction on either backend; roll back on any exception."""
    conn.execute("begin")
    try:
        yield conn
    except BaseException:
        conn.execute("rollback")
        raise
    conn.execute("commit")


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
