"""`seed` into real warehouses (DuckDB and PostgreSQL): identical runs, idempotent, via the SDK."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from acd_analytics.warehouse_url import WarehouseTarget
from acd_sample_world.config import WorldConfig
from acd_sample_world.events import ListEventWriter
from acd_sample_world.generate import ListTableSink, generate_world
from acd_sample_world.seed import seed_world

from tests.unit.world.world_checks import payload_hashes
from warehouse_db.connection import connect

TABLES = {
    "shared_events": "event_id, product, event_name, user_id, anonymous_id, session_id, "
    "occurred_at, properties, context, library",
    "shared_users": "id, email, display_name, stripe_customer_id, created_at, updated_at",
    "shared_entitlements": "id, user_id, product, plan, status, source_app, source_purchase_id, "
    "pending_for_email, granted_at, revoked_at, expires_at",
    "shared_assets": "id, sha256, kind, source, product, user_id, uri, bytes, created_at, tags",
}


def _config(out_dir: Path, seed: int = 5) -> WorldConfig:
    return WorldConfig(users=60, days=9, seed=seed, end_date=date(2024, 3, 31), out_dir=out_dir)


def _normal(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, str) and value[:1] in "{[":
        return json.loads(value)
    return value


def _dump(target: WarehouseTarget) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the four product tables, ids first, without delivery timestamps."""
    with connect(target) as conn:
        return {
            table: sorted(
                (
                    tuple(_normal(v) for v in row)
                    for row in conn.execute(f"select {columns} from {table}").fetchall()
                ),
                key=lambda row: str(row[0]),
            )
            for table, columns in TABLES.items()
        }


def _wipe(target: WarehouseTarget) -> None:
    with connect(target) as conn:
        for table in TABLES:
            conn.execute(f"delete from {table}")


def test_two_runs_of_a_seed_give_identical_tables_and_payloads(
    warehouse: WarehouseTarget, tmp_path: Path
) -> None:
    first = seed_world(warehouse, _config(tmp_path / "a"))
    tables = _dump(warehouse)
    assert len(tables["shared_events"]) == first["counts"]["events"] > 300
    assert len(tables["shared_users"]) == first["counts"]["table_rows_written"]["shared_users"]
    assert tables["shared_entitlements"] and tables["shared_assets"]

    _wipe(warehouse)
    second = seed_world(warehouse, _config(tmp_path / "b"))
    assert second == first
    assert _dump(warehouse) == tables
    assert payload_hashes(tmp_path / "a") == payload_hashes(tmp_path / "b")

    _wipe(warehouse)
    seed_world(warehouse, _config(tmp_path / "c", seed=6))
    other = _dump(warehouse)
    for table in TABLES:
        ids = {row[0] for row in tables[table]}
        assert ids.isdisjoint(row[0] for row in other[table]), table


def test_seeding_the_same_world_again_changes_nothing(
    warehouse: WarehouseTarget, tmp_path: Path
) -> None:
    config = _config(tmp_path / "world")
    seed_world(warehouse, config)
    before = _dump(warehouse)
    seed_world(warehouse, config)
    assert _dump(warehouse) == before


def test_the_warehouse_holds_exactly_the_generated_events_and_rows(
    warehouse: WarehouseTarget, tmp_path: Path
) -> None:
    seed_world(warehouse, _config(tmp_path / "seeded"))
    events, tables = ListEventWriter(), ListTableSink()
    generate_world(_config(tmp_path / "memory"), events=events, tables=tables)
    dumped = _dump(warehouse)
    by_id = {row[0]: row for row in dumped["shared_events"]}
    assert set(by_id) == {event.event_id for event in events.events}
    for event in events.events:
        row = by_id[event.event_id]
        assert row[1:5] == (
            event.product,
            event.event_name,
            event.user_id,
            event.anonymous_id if event.event_name != "alias" else row[4],
        )
        assert row[6] == event.occurred_at
        assert row[7] == event.properties
        assert row[9].startswith("acd-analytics/")
    assert {row[0] for row in dumped["shared_entitlements"]} == set(
        tables.rows["shared_entitlements"]
    )
    users = {row[0]: row for row in dumped["shared_users"]}
    for user_id, user in tables.rows["shared_users"].items():
        assert users[user_id][3] == user["stripe_customer_id"]
