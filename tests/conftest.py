"""Shared fixtures: every test gets its own fresh warehouse on DuckDB and on PostgreSQL.

PostgreSQL comes from `ACD_TEST_POSTGRES_URL` (default: the local service as `postgres`).
When it cannot be reached the PostgreSQL cases skip with the reason, unless
`ACD_REQUIRE_POSTGRES=1` (CI), where they fail instead.

A migrated warehouse is a copy of one migrated once per backend per session (a file copy on
DuckDB, `CREATE DATABASE ... TEMPLATE` on PostgreSQL): copying takes a tenth of migrating.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from acd_analytics.warehouse_url import WarehouseTarget, parse_warehouse_url
from psycopg import sql

from warehouse_db.migrations import migrate


def pytest_configure(config: pytest.Config) -> None:
    """The dbt manifest, current, before any test module imports the Dagster code location
    (which only reads it). Under pytest-xdist the controller makes it before it starts the
    workers, which then only read it."""
    if "PYTEST_XDIST_WORKER" in os.environ:
        return
    from orchestration.defs.dbt.project import ensure_manifest

    ensure_manifest()


def wait_until(
    predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now, for a server a test starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


DEFAULT_TEST_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BACKENDS = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]

T = TypeVar("T")


class PerBackend(dict[str, T]):
    """`make(backend)` per backend, made on first use and kept (not kept if `make` raises)."""

    def __init__(self, make: Callable[[str], T]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, backend: str) -> T:
        self[backend] = self.make(backend)
        return self[backend]


def pick_backend(request: pytest.FixtureRequest, per_backend: Mapping[str, T]) -> T:
    """`per_backend[request.param]` for a fixture parametrized by `BACKENDS`; on PostgreSQL it
    skips (or fails in CI) first when PostgreSQL is unreachable."""
    if request.param == "postgres":
        request.getfixturevalue("postgres_admin")
    return per_backend[request.param]


def create_postgres_database(admin: WarehouseTarget, template: str | None = None) -> str:
    """A brand-new database on `admin`'s server (a copy of `template` if given); its name."""
    database = f"acd_test_{uuid.uuid4().hex[:12]}"
    statement = sql.SQL("create database {}").format(sql.Identifier(database))
    if template is not None:
        statement += sql.SQL(" template {}").format(sql.Identifier(template))
    with psycopg.connect(admin.postgres_conninfo or "", autocommit=True) as conn:
        conn.execute(statement)
    return database


def drop_postgres_database(admin: WarehouseTarget, database: str) -> None:
    """Drop `database` and the roles made for it (`acd-warehouse roles`, the read API's keys),
    which are named after it."""
    with psycopg.connect(admin.postgres_conninfo or "", autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(database))
        )
        for (role,) in conn.execute(
            "select rolname from pg_roles where rolname like %s", (database + "\\_%",)
        ).fetchall():
            conn.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


def postgres_database_url(admin: WarehouseTarget, database: str) -> str:
    return admin.url.rsplit("/", 1)[0] + f"/{database}"


@pytest.fixture(scope="session")
def postgres_admin() -> WarehouseTarget:
    """A PostgreSQL login that may create databases; skips (or fails in CI) if unreachable."""
    target = parse_warehouse_url(os.environ.get("ACD_TEST_POSTGRES_URL", DEFAULT_TEST_POSTGRES_URL))
    try:
        psycopg.connect(target.postgres_conninfo or "", connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        reason = (
            f"PostgreSQL at {target.redacted()} is unreachable: {str(exc).strip().splitlines()[0]}"
        )
        if os.environ.get("ACD_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason} (ACD_REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    return target


@pytest.fixture(scope="session")
def migrated_templates(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, WarehouseTarget]]:
    """Per backend, a warehouse migrated to the latest version once per session (lazily), only
    ever copied: `fresh_warehouse(..., migrated=True)`."""
    databases: list[tuple[WarehouseTarget, str]] = []

    def make(backend: str) -> WarehouseTarget:
        if backend == "duckdb":
            path = tmp_path_factory.mktemp("migrated_template") / "warehouse.duckdb"
            target = parse_warehouse_url(f"duckdb:///{path}")
        else:
            admin: WarehouseTarget = request.getfixturevalue("postgres_admin")
            database = create_postgres_database(admin)
            databases.append((admin, database))
            target = parse_warehouse_url(postgres_database_url(admin, database))
        migrate(target)  # closes its connection: a template must have none
        return target

    try:
        yield PerBackend(make)
    finally:
        for admin, database in databases:
            drop_postgres_database(admin, database)


@pytest.fixture(scope="session")
def session_warehouse(
    request: pytest.FixtureRequest, migrated_templates: dict[str, WarehouseTarget]
) -> Iterator[Callable[[str, Path], WarehouseTarget]]:
    """`session_warehouse(backend, work_dir)`: a new migrated warehouse (on DuckDB, a file in
    `work_dir`) kept until the end of the session, for a build that tests share and only read."""
    databases: list[tuple[WarehouseTarget, str]] = []

    def make(backend: str, work_dir: Path) -> WarehouseTarget:
        template = migrated_templates[backend]
        if backend == "duckdb":
            path = work_dir / "warehouse.duckdb"
            shutil.copyfile(str(template.duckdb_path), path)
            return parse_warehouse_url(f"duckdb:///{path}")
        admin: WarehouseTarget = request.getfixturevalue("postgres_admin")
        database = create_postgres_database(admin, template.database)
        databases.append((admin, database))
        return parse_warehouse_url(postgres_database_url(admin, database))

    try:
        yield make
    finally:
        for admin, database in databases:
            drop_postgres_database(admin, database)


def fresh_warehouse(
    request: pytest.FixtureRequest, backend: str, *, migrated: bool
) -> WarehouseTarget:
    """A new warehouse for this test, dropped after it: empty, or a copy of the session's
    migrated template."""
    if backend == "duckdb":
        path = request.getfixturevalue("tmp_path") / "warehouse.duckdb"
        if migrated:
            template = request.getfixturevalue("migrated_templates")["duckdb"]
            shutil.copyfile(str(template.duckdb_path), path)
        return parse_warehouse_url(f"duckdb:///{path}")
    admin: WarehouseTarget = request.getfixturevalue("postgres_admin")
    template_name = None
    if migrated:
        template_name = request.getfixturevalue("migrated_templates")["postgres"].database
    database = create_postgres_database(admin, template_name)
    request.addfinalizer(lambda: drop_postgres_database(admin, database))
    return parse_warehouse_url(postgres_database_url(admin, database))


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> str:
    """The URL of a brand-new PostgreSQL database, dropped (with its roles) after the test."""
    return fresh_warehouse(request, "postgres", migrated=False).url


@pytest.fixture
def duckdb_url(tmp_path: Path) -> str:
    return f"duckdb:///{tmp_path / 'warehouse.duckdb'}"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The backend of `warehouse` and `empty_warehouse`: each test runs once per backend (a
    test that needs one parametrizes `backend` itself)."""
    return str(request.param)


@pytest.fixture
def empty_warehouse(request: pytest.FixtureRequest, backend: str) -> WarehouseTarget:
    """A fresh, never-migrated warehouse."""
    return fresh_warehouse(request, backend, migrated=False)


@pytest.fixture
def warehouse(request: pytest.FixtureRequest, backend: str) -> WarehouseTarget:
    """A fresh warehouse at the latest migration."""
    target = fresh_warehouse(request, backend, migrated=True)
    assert migrate(target) == []  # the copy is current: migrating it applies nothing
    return target
