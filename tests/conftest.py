"""Shared fixtures: every test gets its own fresh warehouse on DuckDB and on PostgreSQL.

PostgreSQL comes from `ACD_TEST_POSTGRES_URL` (default: the local service as `postgres`).
When it cannot be reached the PostgreSQL cases skip with the reason, unless
`ACD_REQUIRE_POSTGRES=1` (CI), where they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from acd_analytics.warehouse_url import WarehouseTarget, parse_warehouse_url
from psycopg import sql

from warehouse_db.migrations import migrate


def pytest_configure(config: pytest.Config) -> None:
    """The dbt manifest, current, before any test module imports the Dagster code location
    (which only reads it)."""
    from orchestration.defs.dbt.project import ensure_manifest

    ensure_manifest()


DEFAULT_TEST_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BACKENDS = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]


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


@pytest.fixture
def postgres_url(postgres_admin: WarehouseTarget) -> Iterator[str]:
    """The URL of a brand-new PostgreSQL database, dropped (with its roles) after the test."""
    database = f"acd_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_admin.postgres_conninfo or "", autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
    url = postgres_admin.url.rsplit("/", 1)[0] + f"/{database}"
    try:
        yield url
    finally:
        with psycopg.connect(postgres_admin.postgres_conninfo or "", autocommit=True) as admin:
            admin.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(database))
            )
            # Roles made by `acd-warehouse roles` are named after their database.
            for (role,) in admin.execute(
                "select rolname from pg_roles where rolname like %s", (database + "\\_%",)
            ).fetchall():
                admin.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


@pytest.fixture
def duckdb_url(tmp_path: Path) -> str:
    return f"duckdb:///{tmp_path / 'warehouse.duckdb'}"


@pytest.fixture(params=BACKENDS)
def empty_warehouse(request: pytest.FixtureRequest) -> WarehouseTarget:
    """A fresh, never-migrated warehouse; the test runs once per backend."""
    url = request.getfixturevalue("duckdb_url" if request.param == "duckdb" else "postgres_url")
    return parse_warehouse_url(url)


@pytest.fixture
def warehouse(empty_warehouse: WarehouseTarget) -> WarehouseTarget:
    """A fresh warehouse at the latest migration; the test runs once per backend."""
    migrate(empty_warehouse)
    return empty_warehouse
