"""The tables the products write (`shared_*`): external assets, with freshness checks.

Dagster does not write them (the SDK and the products do), so they are `AssetSpec`s keyed as
dbt names the `shared` source, and their freshness is read from the data itself: the newest
`loaded_at_field` value in the table against the ages the dbt source declares
(`dbt_project/models/staging/shared/_shared__sources.yml`, the one place the thresholds live,
read here from the manifest). Older than `error_after` fails the check as an error, older than
`warn_after` as a warning. `shared_events` is stamped by the warehouse on arrival
(`received_at`), so a stale one means delivery stopped: it has an `error_after`. The others
carry business times (a quiet week is possible): warnings only.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from orchestration.defs.dbt.project import load_manifest
from orchestration.defs.resources import WarehouseResource

SHARED_SOURCE = "shared"
_PERIODS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


@dataclass(frozen=True)
class Freshness:
    table: str
    column: str  # dbt's loaded_at_field: a column or an expression
    warn_after: timedelta | None
    error_after: timedelta | None
    description: str


def _age(rule: Mapping[str, Any] | None) -> timedelta | None:
    if not rule or rule.get("count") is None:
        return None
    return int(rule["count"]) * _PERIODS[rule["period"]]


def shared_freshness(manifest: Mapping[str, Any]) -> tuple[Freshness, ...]:
    """The freshness rules of the dbt source `shared`, one per table, ordered by table."""
    found = []
    for source in manifest["sources"].values():
        if source["source_name"] != SHARED_SOURCE:
            continue
        rules = source.get("freshness") or {}
        spec = Freshness(
            table=source["name"],
            column=source.get("loaded_at_field") or "",
            warn_after=_age(rules.get("warn_after")),
            error_after=_age(rules.get("error_after")),
            description=source.get("description") or "",
        )
        if not spec.column or (spec.warn_after is None and spec.error_after is None):
            raise ValueError(
                f"dbt source {SHARED_SOURCE}.{spec.table} declares no loaded_at_field "
                "and freshness (warn_after or error_after)"
            )
        found.append(spec)
    if not found:
        raise ValueError(f"the dbt manifest has no source {SHARED_SOURCE!r}")
    return tuple(sorted(found, key=lambda spec: spec.table))


SHARED_TABLES = shared_freshness(load_manifest())


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


def freshness_outcome(
    spec: Freshness, newest: datetime | None, now: datetime
) -> tuple[str | None, dg.AssetCheckSeverity]:
    """(None, _) when fresh; otherwise why not, with the severity of the first age exceeded."""
    for max_age, severity in (
        (spec.error_after, dg.AssetCheckSeverity.ERROR),
        (spec.warn_after, dg.AssetCheckSeverity.WARN),
    ):
        problem = None if max_age is None else freshness_verdict(newest, now, max_age)
        if problem is not None:
            return problem, severity
    return None, dg.AssetCheckSeverity.WARN


def _limits(spec: Freshness) -> str:
    limits = [
        f"{_hours(max_age)} ({name})"
        for max_age, name in ((spec.warn_after, "warning"), (spec.error_after, "error"))
        if max_age is not None
    ]
    return " and ".join(limits)


def _freshness_check(spec: Freshness) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=shared_key(spec.table),
        name="freshness",
        description=(
            f"Newest {spec.column} at most {_limits(spec)} old "
            f"(dbt source freshness of {SHARED_SOURCE}.{spec.table})."
        ),
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect() as conn:
            newest = conn.execute(f"select max({spec.column}) from {spec.table}").fetchone()[0]
        now = datetime.now(UTC)
        problem, severity = freshness_outcome(spec, newest, now)
        return dg.AssetCheckResult(
            passed=problem is None,
            severity=severity,
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
