"""Helpers for the SDK's tests on real warehouses (both backends, via the `warehouse` fixture)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from acd_analytics.warehouse_url import WarehouseTarget

from warehouse_db.connection import connect


def query(target: WarehouseTarget, sql: str) -> list[tuple[Any, ...]]:
    with connect(target) as conn:
        rows: list[tuple[Any, ...]] = conn.execute(sql).fetchall()
        return rows


def event_count(target: WarehouseTarget) -> int:
    return int(query(target, "select count(*) from shared_events")[0][0])


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    return tmp_path / "spool"
