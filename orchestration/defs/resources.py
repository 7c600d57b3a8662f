"""Resources shared by every area: the warehouse, named by ACD_WAREHOUSE_URL."""

from __future__ import annotations

import os
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
    """The warehouse every asset reads and writes (DuckDB file or PostgreSQL).

    Built by `warehouse_resource`, which passes the URL as an `EnvVar`: the URL may hold a
    password, and Dagster shows, stores and logs a resource's plain values."""

    url: str = DEFAULT_WAREHOUSE_URL

    @property
    def target(self) -> WarehouseTarget:
        return parse_warehouse_url(self.url)

    @contextmanager
    def connect(self) -> Iterator[Any]:
        with connect(self.target) as conn:
            yield conn


class WarehouseSecretOutsideEnvironment(ValueError):
    """A warehouse URL with a password that does not come from ACD_WAREHOUSE_URL."""


def warehouse_resource(target: WarehouseTarget | None = None) -> WarehouseResource:
    """The warehouse resource for `target` (default: the one ACD_WAREHOUSE_URL names).

    When the URL comes from ACD_WAREHOUSE_URL it travels as `EnvVar(ACD_WAREHOUSE_URL)`,
    resolved only inside a run, so the UI, the run storage and the run config hold the
    variable's name. Without the variable the embedded default needs no secret. Any other
    URL is passed as is, so it must not hold a password."""
    configured = os.environ.get(WAREHOUSE_URL_SETTING)
    if configured and (target is None or parse_warehouse_url(configured) == target):
        return WarehouseResource(url=dg.EnvVar(WAREHOUSE_URL_SETTING))
    if target is None:
        return WarehouseResource()
    if target.password:
        raise WarehouseSecretOutsideEnvironment(
            f"the warehouse {target.redacted()} has a password: "
            f"give it through {WAREHOUSE_URL_SETTING}, so Dagster never stores it"
        )
    return WarehouseResource(url=target.url)
