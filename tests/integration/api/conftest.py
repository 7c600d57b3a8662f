"""One warehouse per backend, built from a small sample world, and the read API in front of it.

Building is the slow part (seed, ingest through the real connectors, `dbt build`), so each
backend is built once per test session, lazily, and shared by every test of the read API;
tests only read the marts, and what they write (keys, audit rows) they name uniquely.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from acd_analytics.warehouse_url import WarehouseTarget, parse_warehouse_url
from acd_sample_world.config import WorldConfig
from acd_sample_world.fake_apis.server import SampleWorldServer
from acd_sample_world.seed import seed_world
from psycopg import sql
from starlette.testclient import TestClient

from api.app import ReadApi, create_app
from api.keys import create_read_key, revoke_read_key
from api.settings import ApiSettings
from api.warehouse import DuckDBReader
from orchestration.commands.ingest import run_ingest
from orchestration.defs.dbt.project import ensure_manifest
from tests.integration.dbt.conftest import dbt_in
from warehouse_db.connection import connect

WORLD = {"users": 120, "days": 14, "seed": 24, "end_date": date(2024, 6, 30)}
BACKENDS = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
# High enough that no test but the one about it meets the limit.
TEST_RATE = 100_000.0


def build_world(target: WarehouseTarget, work_dir: Path) -> None:
    config = WorldConfig(**WORLD, out_dir=work_dir / "world")
    seed_world(target, config, spool_dir=work_dir / "spool")
    with SampleWorldServer(config.out_dir) as server:
        settings = server.source_settings()
        run_ingest("stripe", target, env=settings)
        for source in ("meta", "tiktok"):
            run_ingest(source, target, start=config.start_date, end=config.end_date, env=settings)
    dbt_in(
        target, ["build", "--exclude", "resource_type:test", "resource_type:unit_test"], work_dir
    )


class Harness:
    """A built warehouse and the read API over it, with helpers to make keys and look inside."""

    def __init__(self, target: WarehouseTarget, client: TestClient, work_dir: Path) -> None:
        self.target = target
        self.client = client
        self.work_dir = work_dir
        self.api: ReadApi = client.app.state.api  # type: ignore[attr-defined]

    @property
    def backend(self) -> str:
        return self.target.backend

    @contextlib.contextmanager
    def owner(self) -> Iterator[None]:
        """Room for the test's own writes: on DuckDB, the API's readers and audit wait."""
        reader = self.api.reader
        if isinstance(reader, DuckDBReader):
            with reader.exclusive():
                yield
        else:
            yield

    def query(self, statement: str) -> list[tuple[Any, ...]]:
        with self.owner(), connect(self.target) as conn:
            return [tuple(row) for row in conn.execute(statement).fetchall()]

    def key(
        self, product: str | None = None, marts: tuple[str, ...] | None = None, name: str = ""
    ) -> tuple[str, str]:
        """A new read key: (key_id, key)."""
        with self.owner():
            key, secret = create_read_key(
                self.target, name or f"test-{uuid.uuid4().hex[:8]}", product, marts
            )
        return key.key_id, secret

    def revoke(self, key_id: str) -> None:
        with self.owner():
            revoke_read_key(self.target, key_id)

    def get(self, path: str, key: str | None, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        return self.client.get(path, headers=headers, **kwargs)

    def flush_audit(self) -> None:
        assert self.api.audit is not None
        self.api.audit.flush()


@pytest.fixture(scope="session")
def manifest_path() -> Path:
    return ensure_manifest()


@pytest.fixture(scope="session")
def built_warehouses(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, tuple[WarehouseTarget, Path]]]:
    databases: list[str] = []
    admins: list[WarehouseTarget] = []

    class Lazy(dict[str, tuple[WarehouseTarget, Path]]):
        def __missing__(self, backend: str) -> tuple[WarehouseTarget, Path]:
            work_dir = tmp_path_factory.mktemp(f"api_world_{backend}")
            if backend == "duckdb":
                target = parse_warehouse_url(f"duckdb:///{work_dir / 'warehouse.duckdb'}")
            else:
                admin: WarehouseTarget = request.getfixturevalue("postgres_admin")
                admins.append(admin)
                database = f"acd_test_{uuid.uuid4().hex[:12]}"
                with psycopg.connect(admin.postgres_conninfo or "", autocommit=True) as conn:
                    conn.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
                databases.append(database)
                target = parse_warehouse_url(admin.url.rsplit("/", 1)[0] + f"/{database}")
            build_world(target, work_dir)
            self[backend] = (target, work_dir)
            return self[backend]

    try:
        yield Lazy()
    finally:
        if databases:
            admin = admins[0]
            with psycopg.connect(admin.postgres_conninfo or "", autocommit=True) as conn:
                for database in databases:
                    conn.execute(
                        sql.SQL("drop database if exists {} with (force)").format(
                            sql.Identifier(database)
                        )
                    )
                    for (role,) in conn.execute(
                        "select rolname from pg_roles where rolname like %s",
                        (database + "\\_%",),
                    ).fetchall():
                        conn.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


@pytest.fixture(scope="session")
def harnesses(
    built_warehouses: dict[str, tuple[WarehouseTarget, Path]], manifest_path: Path
) -> Iterator[dict[str, Harness]]:
    stack = contextlib.ExitStack()

    class Lazy(dict[str, Harness]):
        def __missing__(self, backend: str) -> Harness:
            target, work_dir = built_warehouses[backend]
            app = create_app(target, ApiSettings(rate_limit=TEST_RATE), manifest=manifest_path)
            client = stack.enter_context(TestClient(app))
            self[backend] = Harness(target, client, work_dir)
            return self[backend]

    with stack:
        yield Lazy()


@pytest.fixture(params=BACKENDS)
def harness(request: pytest.FixtureRequest, harnesses: dict[str, Harness]) -> Harness:
    if request.param == "postgres":
        request.getfixturevalue("postgres_admin")  # skips when PostgreSQL is unreachable
    return harnesses[request.param]
