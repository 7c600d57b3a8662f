"""A warehouse built from the sample world, once per backend for the whole session.

`built_worlds[backend]` seeds a small deterministic world into a fresh DuckDB file or
PostgreSQL database, pulls every source through the real connectors from `SampleWorldServer`
and runs `dbt build` (the slow part, done lazily on first use); `built` parametrises a test
over both backends. Tests that use them must only read the warehouse.
"""

from __future__ import annotations

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

from orchestration.commands.ingest import run_ingest
from tests.integration.dbt.conftest import dbt_in

# A fixed world: the same people, ads and Stripe objects on every run and both backends.
WORLD = {"users": 300, "days": 30, "seed": 42, "end_date": date(2024, 6, 30)}


def seed_ingest_build(target: WarehouseTarget, work_dir: Path) -> dict[str, Any]:
    """Seed the world into `target`, pull every source from its transport, build; the manifest."""
    config = WorldConfig(**WORLD, out_dir=work_dir / "world")
    manifest = seed_world(target, config, spool_dir=work_dir / "spool")
    with SampleWorldServer(config.out_dir) as server:
        settings = server.source_settings()
        run_ingest("stripe", target, env=settings)
        for source in ("meta", "tiktok"):
            run_ingest(source, target, start=config.start_date, end=config.end_date, env=settings)
    dbt_in(target, ["build"], work_dir)
    return manifest


class Built:
    """A backend's warehouse after seed + ingest + build, with the world's manifest."""

    def __init__(self, target: WarehouseTarget, manifest: dict[str, Any], work_dir: Path):
        self.target = target
        self.manifest = manifest
        self.work_dir = work_dir


@pytest.fixture(scope="session")
def built_worlds(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Built]]:
    """Each backend seeded, ingested and built once (lazily) for the whole session: the tests
    that share it only read it."""
    databases: list[tuple[WarehouseTarget, str]] = []  # (the admin login, the database)

    class Lazy(dict[str, Built]):
        def __missing__(self, backend: str) -> Built:
            work_dir = tmp_path_factory.mktemp(f"sample_world_{backend}")
            if backend == "duckdb":
                target = parse_warehouse_url(f"duckdb:///{work_dir / 'warehouse.duckdb'}")
            else:
                admin: WarehouseTarget = request.getfixturevalue("postgres_admin")
                database = f"acd_test_{uuid.uuid4().hex[:12]}"
                with psycopg.connect(admin.postgres_conninfo or "", autocommit=True) as conn:
                    conn.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
                databases.append((admin, database))
                target = parse_warehouse_url(admin.url.rsplit("/", 1)[0] + f"/{database}")
            self[backend] = Built(target, seed_ingest_build(target, work_dir), work_dir)
            return self[backend]

    try:
        yield Lazy()
    finally:
        # The admin login as it was when the database was made: at the end of the session
        # the `postgres_admin` fixture may already be torn down.
        for admin, database in databases:
            with psycopg.connect(admin.postgres_conninfo or "", autocommit=True) as conn:
                conn.execute(
                    sql.SQL("drop database if exists {} with (force)").format(
                        sql.Identifier(database)
                    )
                )
                # Roles made for the database (the read API's) are named after it.
                for (role,) in conn.execute(
                    "select rolname from pg_roles where rolname like %s", (database + "\\_%",)
                ).fetchall():
                    conn.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def built(request: pytest.FixtureRequest, built_worlds: dict[str, Built]) -> Built:
    if request.param == "postgres":
        request.getfixturevalue("postgres_admin")  # skips when PostgreSQL is unreachable
    return built_worlds[request.param]
