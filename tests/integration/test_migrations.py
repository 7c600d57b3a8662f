"""`acd-warehouse migrate` on both backends: creates, is idempotent, upgrades, enforces rules."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from acd_analytics.warehouse_url import WarehouseTarget, parse_warehouse_url

from orchestration.cli import main
from warehouse_db.connection import connect
from warehouse_db.migrations import all_migrations, migrate
from warehouse_db.raw_schema import RAW_TABLES, raw_table

SHARED_TABLES = ["shared_assets", "shared_entitlements", "shared_events", "shared_users"]


def columns(target: WarehouseTarget) -> list[tuple[str, str, str, str]]:
    """(schema, table, column, nullable) of every warehouse table, ordered."""
    with connect(target) as conn:
        rows = conn.execute(
            """
            select table_schema, table_name, column_name, is_nullable
            from information_schema.columns
            where table_name like 'shared_%' or table_schema like 'raw_%'
            order by 1, 2, 3
            """
        ).fetchall()
    return [tuple(row) for row in rows]


def insert_event(target: WarehouseTarget, **overrides: Any) -> None:
    row: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "product": "portal28",
        "event_name": "page_viewed",
        "user_id": "u1",
        "anonymous_id": None,
        "occurred_at": "2026-01-01 00:00:00+00",
        "properties": "{}",
        "context": "{}",
    } | overrides
    placeholder = "?" if target.backend == "duckdb" else "%s"
    names = ", ".join(row)
    values = ", ".join([placeholder] * len(row))
    with connect(target) as conn:
        conn.execute(f"insert into shared_events ({names}) values ({values})", list(row.values()))


def test_migrate_creates_every_table(empty_warehouse: WarehouseTarget) -> None:
    applied = migrate(empty_warehouse)
    assert [m.version for m in applied] == [m.version for m in all_migrations()]
    tables = {(schema, table) for schema, table, _, _ in columns(empty_warehouse)}
    for table in SHARED_TABLES:
        assert any(name == table for _, name in tables), table
    for schema, raw_tables in RAW_TABLES.items():
        for table in [*raw_tables, "_sync_state"]:
            assert (schema, table) in tables


def test_the_raw_tables_are_those_raw_load_writes(empty_warehouse: WarehouseTarget) -> None:
    """The migrations and `warehouse_db.raw_schema` describe the same raw tables."""
    migrate(empty_warehouse)
    with connect(empty_warehouse) as conn:
        for schema, tables in RAW_TABLES.items():
            for table in tables:
                found = conn.execute(
                    "select column_name from information_schema.columns "
                    f"where table_schema = '{schema}' and table_name = '{table}' "
                    "order by ordinal_position"
                ).fetchall()
                spec = raw_table(schema, table)
                expected = [*spec.columns, "payload", "_account_id", "_loaded_at"]
                assert [row[0] for row in found] == expected, spec.name


def test_migrate_twice_changes_nothing(empty_warehouse: WarehouseTarget) -> None:
    migrate(empty_warehouse)
    before = columns(empty_warehouse)
    assert migrate(empty_warehouse) == []
    assert columns(empty_warehouse) == before


def test_migrate_upgrades_an_older_warehouse(empty_warehouse: WarehouseTarget) -> None:
    migrate(empty_warehouse, to_version=1)
    insert_event(empty_warehouse, event_id="00000000-0000-0000-0000-000000000001")
    applied = migrate(empty_warehouse)
    assert [m.version for m in applied] == list(range(2, len(all_migrations()) + 1))
    with connect(empty_warehouse) as conn:
        assert conn.execute("select count(*) from shared_events").fetchall()[0][0] == 1


def test_the_same_columns_on_both_backends(duckdb_url: str, postgres_url: str) -> None:
    duck, pg = parse_warehouse_url(duckdb_url), parse_warehouse_url(postgres_url)
    migrate(duck)
    migrate(pg)
    pg_columns = [(s.replace("public", "main"), t, c, n) for s, t, c, n in columns(pg)]
    assert columns(duck) == pg_columns


def test_a_valid_event_is_stored(warehouse: WarehouseTarget) -> None:
    insert_event(warehouse, properties=json.dumps({"plan": "pro"}))
    with connect(warehouse) as conn:
        assert conn.execute("select count(*) from shared_events").fetchall()[0][0] == 1


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"event_name": "Page Viewed"}, "event_name"),
        ({"event_name": "9lives"}, "event_name"),
        ({"product": "Portal 28"}, "product"),
        ({"user_id": None, "anonymous_id": None}, "anonymous_id"),
    ],
)
def test_constraint_violations_are_rejected_naming_the_rule(
    warehouse: WarehouseTarget, overrides: dict[str, Any], named: str
) -> None:
    with pytest.raises(Exception, match=named):
        insert_event(warehouse, **overrides)
    with connect(warehouse) as conn:
        assert conn.execute("select count(*) from shared_events").fetchall()[0][0] == 0


def test_duplicate_event_id_is_rejected(warehouse: WarehouseTarget) -> None:
    event_id = str(uuid.uuid4())
    insert_event(warehouse, event_id=event_id)
    with pytest.raises(Exception, match=r"(?i)duplicate key|primary key"):
        insert_event(warehouse, event_id=event_id, event_name="signup_completed")
    with connect(warehouse) as conn:
        rows = conn.execute("select event_name from shared_events").fetchall()
    assert [row[0] for row in rows] == ["page_viewed"]


def test_cli_migrate_reports_and_is_idempotent(
    empty_warehouse: WarehouseTarget,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ACD_WAREHOUSE_URL", empty_warehouse.url)
    assert main(["migrate"]) == 0
    assert "applied migration 1: shared_tables" in capsys.readouterr().out
    assert main(["migrate"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_cli_fails_in_one_line_without_leaking_the_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ACD_WAREHOUSE_URL", "postgresql+psycopg://acd:hunter2@127.0.0.1:1/acd")
    assert main(["migrate"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("acd-warehouse migrate: cannot connect")
    assert "hunter2" not in err
