"""What the warehouse holds: every table with its row count, for the demo and for people."""

from __future__ import annotations

from typing import Any

SYSTEM_SCHEMAS = ("information_schema", "pg_catalog", "pg_toast")


def table_row_counts(conn: Any) -> list[tuple[str, str, int]]:
    """(schema, table, rows) for every base table outside the system schemas, ordered."""
    tables = conn.execute(
        "select table_schema, table_name from information_schema.tables "
        f"where table_type = 'BASE TABLE' and table_schema not in {SYSTEM_SCHEMAS!r} "
        "order by 1, 2"
    ).fetchall()
    return [
        (
            schema,
            table,
            int(conn.execute(f'select count(*) from "{schema}"."{table}"').fetchall()[0][0]),
        )
        for schema, table in tables
    ]
