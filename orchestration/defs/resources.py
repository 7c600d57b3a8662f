"""Resources shared by every area: the warehouse, named by ACD_WAREHOUSE_URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dagster as dg
from acd_analytics.warehouse_url import (
    DEFAULT_WAREHOUSE_URL,
    WAREHOUSE_URL_SETTING,
    WarehouseTarget,
    parse_warehouse_url,
)

from warehouse_db.connection import connect


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse every asset reads and writes (DuckDB file or PostgreSQL)."""

    url: str = DEFAULT_WAREHOUSE_URL

    @property
    def target(self) -> WarehouseTarget:
        return parse_warehouse_url(self.url)

    @contextmanager
    def connect(self) -> Iterator[Any]:
        with connect(self.target) as conn:
            yield conn


def warehouse_resource() -> WarehouseResource:
    """The production wiring: the URL comes from the environment when a run starts."""
    return WarehouseResource(
        url=dg.EnvVar(WAREHOUSE_URL_SETTING).get_value(DEFAULT_WAREHOUSE_URL)
        or DEFAULT_WAREHOUSE_URL
    )
