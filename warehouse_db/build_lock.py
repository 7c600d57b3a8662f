"""One dbt build at a time per warehouse, held for the whole build.

The incremental models read the rows stamped after their own last run, which is exact only
when two builds on one warehouse never overlap (dbt_project/DECISIONLOG.md, Downstream
incrementality). `build_lock` excludes a second build:

- PostgreSQL: a session advisory lock (`BUILD_LOCK_KEY`) held on a connection of its own for
  the build's duration, released when the build ends or its process dies.
- DuckDB: the database file admits one writing process at a time. The lock opens the file
  once, so a file held by another process (a build, an ingest, a notebook) fails here with a
  message rather than inside dbt, and holds an advisory lock on `<file>.build-lock` for the
  build's duration, which a second build of this code finds taken even before dbt opens the
  database.

A build that finds the lock taken waits up to `wait_seconds`, then raises `BuildLocked`.

A process that keeps a DuckDB file open between its own uses (the read API, docs/API.md) looks
at the lock (`duckdb_build_waiting`) and lets go of the file when a build has taken it, so a
build gives such readers `READERS_GRACE_SECONDS` before it calls the file held, even with no
`wait_seconds`. Looking takes the lock shared for an instant, so a build retries taking it for
`PROBE_GRACE_SECONDS` before it calls the lock taken.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from acd_analytics.warehouse_url import WarehouseTarget

from warehouse_db.connection import connect

# pg_advisory_lock's key space is shared by the database: 0x0ACD_0001 is `migrate`'s.
BUILD_LOCK_KEY = 0x0ACD_0002
POLL_SECONDS = 1.0
READERS_GRACE_SECONDS = 2.0
PROBE_GRACE_SECONDS = 0.2
_SHORT_POLL_SECONDS = 0.05


class BuildLocked(RuntimeError):
    """Another build (or another writer of a DuckDB file) holds the warehouse."""


@contextmanager
def build_lock(target: WarehouseTarget, *, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the build lock of `target` for the block; raise BuildLocked if it stays taken
    for `wait_seconds`."""
    if target.backend == "postgres":
        with _postgres_lock(target, wait_seconds):
            yield
    else:
        with _duckdb_lock(target, wait_seconds):
            yield


@contextmanager
def _postgres_lock(target: WarehouseTarget, wait_seconds: float) -> Iterator[None]:
    with connect(target) as conn:
        deadline = time.monotonic() + wait_seconds
        while not conn.execute("select pg_try_advisory_lock(%s)", (BUILD_LOCK_KEY,)).fetchone()[0]:
            if time.monotonic() >= deadline:
                raise BuildLocked(
                    f"another dbt build is running on {target.redacted()} "
                    f"({_postgres_holder(conn)}); wait for it to finish, or pass --wait SECONDS"
                )
            time.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (BUILD_LOCK_KEY,))


def _postgres_holder(conn: Any) -> str:
    row = conn.execute(
        "select activity.pid, activity.application_name, activity.backend_start"
        " from pg_locks as locks"
        " join pg_stat_activity as activity on activity.pid = locks.pid"
        " where locks.locktype = 'advisory' and locks.granted"
        " and locks.classid = 0 and locks.objid = %s and locks.database = ("
        "   select oid from pg_database where datname = current_database())",
        (BUILD_LOCK_KEY,),
    ).fetchone()
    if row is None:
        return "the lock was released meanwhile"
    pid, application, started = row
    return f"held by PostgreSQL backend {pid}{f' ({application})' if application else ''} since {started:%Y-%m-%d %H:%M:%S %Z}"


def duckdb_build_lock_path(database: str | Path) -> Path:
    """The file whose lock a build of the DuckDB warehouse `database` holds."""
    path = Path(database)
    return path.with_name(path.name + ".build-lock")


def duckdb_build_waiting(database: str | Path) -> bool:
    """Whether a build holds the build lock of the DuckDB warehouse `database` (it then needs
    the file: a reader that keeps it open should let go)."""
    try:
        descriptor = os.open(duckdb_build_lock_path(database), os.O_RDONLY)
    except OSError:
        return False  # no build ever ran here, or the directory is not ours to read
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        return False
    finally:
        os.close(descriptor)


@contextmanager
def _duckdb_lock(target: WarehouseTarget, wait_seconds: float) -> Iterator[None]:
    assert target.duckdb_path is not None
    database = Path(target.duckdb_path)
    database.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    deadline = started + wait_seconds
    with open(duckdb_build_lock_path(database), "a") as lock_file:
        while True:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - started
                if waited >= wait_seconds and waited >= PROBE_GRACE_SECONDS:
                    raise BuildLocked(
                        f"another dbt build is running on {target.redacted()}; "
                        "wait for it to finish, or pass --wait SECONDS"
                    ) from None
                # A reader's look at the lock holds it for an instant: retry at once.
                time.sleep(_SHORT_POLL_SECONDS if waited < PROBE_GRACE_SECONDS else POLL_SECONDS)
        try:
            _check_duckdb_file_is_free(
                target, max(deadline, time.monotonic() + READERS_GRACE_SECONDS)
            )
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _check_duckdb_file_is_free(target: WarehouseTarget, deadline: float) -> None:
    import duckdb

    short_until = time.monotonic() + READERS_GRACE_SECONDS
    while True:
        try:
            duckdb.connect(str(target.duckdb_path)).close()
            return
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                holder = str(exc).strip().splitlines()[0]
                raise BuildLocked(
                    f"the DuckDB warehouse {target.redacted()} is open in another process, "
                    f"and DuckDB allows one writer: {holder}. Stop that process (or wait for "
                    "it) and build again"
                ) from None
            # Readers that see the build lock let go within moments: look again soon.
            time.sleep(_SHORT_POLL_SECONDS if time.monotonic() < short_until else POLL_SECONDS)
