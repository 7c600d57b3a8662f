"""A warehouse built from the sample world, once per backend for the whole session.

`built_worlds[backend]` seeds a small deterministic world into a fresh DuckDB file or
PostgreSQL database, pulls every source through the real connectors from `SampleWorldServer`
and runs `dbt build` (the slow part, done lazily on first use); `built` parametrises a test
over both backends. `built_empty_warehouses` and `built_empty` are the same for the whole
project built on a warehouse with no source rows. Tests that use them must only read the
warehouse.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from acd_analytics.warehouse_url import WarehouseTarget
from acd_sample_world.config import WorldConfig
from acd_sample_world.fake_apis.server import SampleWorldServer
from acd_sample_world.seed import seed_world

from orchestration.commands.ingest import run_ingest
from tests.conftest import BACKENDS, PerBackend, pick_backend
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
    session_warehouse: Callable[[str, Path], WarehouseTarget],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Built]:
    """Each backend seeded, ingested and built once (lazily) for the whole session: the tests
    that share it only read it."""

    def build(backend: str) -> Built:
        work_dir = tmp_path_factory.mktemp(f"sample_world_{backend}")
        target = session_warehouse(backend, work_dir)
        return Built(target, seed_ingest_build(target, work_dir), work_dir)

    return PerBackend(build)


@pytest.fixture(params=BACKENDS)
def built(request: pytest.FixtureRequest, built_worlds: dict[str, Built]) -> Built:
    return pick_backend(request, built_worlds)


@pytest.fixture(scope="session")
def built_empty_warehouses(
    session_warehouse: Callable[[str, Path], WarehouseTarget],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, WarehouseTarget]:
    """Each backend migrated and the whole dbt project built on it with no source rows, once
    (lazily) for the whole session: the tests that share it only read it."""

    def build(backend: str) -> WarehouseTarget:
        work_dir = tmp_path_factory.mktemp(f"empty_{backend}")
        target = session_warehouse(backend, work_dir)
        dbt_in(target, ["build"], work_dir)
        return target

    return PerBackend(build)


@pytest.fixture(params=BACKENDS)
def built_empty(
    request: pytest.FixtureRequest, built_empty_warehouses: dict[str, WarehouseTarget]
) -> WarehouseTarget:
    return pick_backend(request, built_empty_warehouses)
