"""The tables the products write (`shared_*`): external assets, with freshness checks.

Dagster does not write them (the SDK and the products do), so they are `AssetSpec`s keyed as
dbt names the `shared` source, and their freshness is read from the data itself: the newest
timestamp in the table against the allowed age. `shared_events` is stamped by the warehouse
on arrival (`received_at`), so a stale one means delivery stopped: an error. The others carry
business times (a quiet week is possible): a warning.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import dagster as dg

from orchestration.defs.resources import WarehouseResource


@dataclass(frozen=True)
class Freshness:
    table: str
    column: str
    max_age: timedelta
    severity: dg.AssetCheckSeverity
    description: str


SHARED_TABLES = (
    Freshness(
        "shared_events",
        "received_at",
        timedelta(hours=24),
        dg.AssetCheckSeverity.ERROR,
        "One row per tracked event, written by the acd_analytics SDK.",
    ),
    Freshness(
        "shared_users",
        "updated_at",
        timedelta(days=7),
        dg.AssetCheckSeverity.WARN,
        "One row per shared user id across products (Portal28 writes it).",
    ),
    Freshness(
        "shared_entitlements",
        "coalesce(revoked_at, granted_at)",
        timedelta(days=7),
        dg.AssetCheckSeverity.WARN,
        "One row per entitlement a product granted or holds pending for a purchase.",
    ),
    Freshness(
        "shared_assets",
        "created_at",
        timedelta(days=7),
        dg.AssetCheckSeverity.WARN,
        "One row per creative asset, unique by content hash.",
    ),
)


def shared_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["shared", table])


def freshness_verdict(newest: datetime | None, now: datetime, max_age: timedelta) -> str | None:
    """None when fresh; otherwise why not."""
    if newest is None:
        return "the table is empty"
    if newest.tzinfo is None:
        newest = newest.replace(tzinfo=UTC)
    age = now - newest
    if age > max_age:
        return f"newest row is {_hours(age)} old (allowed {_hours(max_age)})"
    return None


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f}h"


def _freshness_check(spec: Freshness) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=shared_key(spec.table),
        name="freshness",
        description=f"Newest {spec.column} at most {_hours(spec.max_age)} old.",
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect() as conn:
            newest = conn.execute(f"select max({spec.column}) from {spec.table}").fetchone()[0]
        now = datetime.now(UTC)
        problem = freshness_verdict(newest, now, spec.max_age)
        return dg.AssetCheckResult(
            passed=problem is None,
            severity=spec.severity,
            description=problem or f"newest row at {newest}",
            metadata={"newest": str(newest), "checked_at": now.isoformat()},
        )

    return _check


ASSETS = [
    dg.AssetSpec(
        shared_key(spec.table),
        group_name="shared",
        kinds={"duckdb", "postgres"},
        description=spec.description,
    )
    for spec in SHARED_TABLES
]
CHECKS = [_freshness_check(spec) for spec in SHARED_TABLES]

defs = dg.Definitions(assets=ASSETS, asset_checks=CHECKS)
