"""Writes the sample world's product tables (`shared_users`, `shared_entitlements`,
`shared_assets`) to the warehouse in batches.

Rows that already exist (same primary key) are left alone, so seeding the same world twice
changes nothing. DuckDB takes each batch as an Arrow table; PostgreSQL through `COPY` into
a temporary table. Events are not written here: they go through the SDK.
"""

from __future__ import annotations

import json
from types import TracebackType
from typing import Any

from acd_analytics.warehouse_url import WarehouseTarget

from warehouse_db.connection import connect, transaction

COLUMNS: dict[str, tuple[str, ...]] = {
    "shared_users": (
        "id",
        "email",
        "display_name",
        "stripe_customer_id",
        "created_at",
        "updated_at",
    ),
    "shared_entitlements": (
        "id",
        "user_id",
        "product",
        "plan",
        "status",
        "source_app",
        "source_purchase_id",
        "pending_for_email",
        "granted_at",
        "revoked_at",
        "expires_at",
    ),
    "shared_assets": (
        "id",
        "sha256",
        "kind",
        "source",
        "product",
        "user_id",
        "uri",
        "bytes",
        "created_at",
        "tags",
    ),
}
JSON_COLUMNS = {"tags"}
TIMESTAMP_COLUMNS = {"created_at", "updated_at", "granted_at", "revoked_at", "expires_at"}


class TableWriter:
    """Buffers rows per table and inserts them `batch_size` at a time."""

    def __init__(self, target: WarehouseTarget, *, batch_size: int = 5000) -> None:
        self.target = target
        self.batch_size = batch_size
        self.buffers: dict[str, list[dict[str, Any]]] = {table: [] for table in COLUMNS}
        self.written: dict[str, int] = dict.fromkeys(COLUMNS, 0)
        self._conn_cm: Any = None
        self.conn: Any = None

    def __enter__(self) -> TableWriter:
        self._conn_cm = connect(self.target)
        self.conn = self._conn_cm.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                self.flush()
        finally:
            self._conn_cm.__exit__(exc_type, exc, tb)

    def add(self, table: str, row: dict[str, Any]) -> None:
        buffer = self.buffers[table]
        buffer.append(row)
        if len(buffer) >= self.batch_size:
            self._write(table)

    def flush(self) -> None:
        for table in COLUMNS:
            self._write(table)

    def _write(self, table: str) -> None:
        rows = self.buffers[table]
        if not rows:
            return
        self.buffers[table] = []
        columns = COLUMNS[table]
        with transaction(self.conn):
            if self.target.backend == "duckdb":
                self._write_duckdb(table, columns, rows)
            else:
                self._write_postgres(table, columns, rows)
        self.written[table] += len(rows)

    def _write_duckdb(
        self, table: str, columns: tuple[str, ...], rows: list[dict[str, Any]]
    ) -> None:
        import pyarrow as pa

        arrays = {}
        for column in columns:
            values = [row[column] for row in rows]
            if column in JSON_COLUMNS:
                values = [
                    None if v is None else json.dumps(v, separators=(",", ":")) for v in values
                ]
            if column in TIMESTAMP_COLUMNS:
                arrays[column] = pa.array(values, type=pa.timestamp("us", tz="UTC"))
            elif column == "bytes":
                arrays[column] = pa.array(values, type=pa.int64())
            else:
                arrays[column] = pa.array(values, type=pa.string())
        batch = pa.table(arrays)
        self.conn.register("acd_world_batch", batch)
        try:
            select = ", ".join(f"cast({c} as json)" if c in JSON_COLUMNS else c for c in columns)
            self.conn.execute(
                f"insert into {table} ({', '.join(columns)}) select {select} "
                f"from acd_world_batch on conflict do nothing"
            )
        finally:
            self.conn.unregister("acd_world_batch")

    def _write_postgres(
        self, table: str, columns: tuple[str, ...], rows: list[dict[str, Any]]
    ) -> None:
        staging = f"acd_world_{table}"
        names = ", ".join(columns)
        self.conn.execute(
            f"create temporary table if not exists {staging} "
            f"(like {table} including defaults) on commit delete rows"
        )
        with self.conn.cursor().copy(f"copy {staging} ({names}) from stdin") as copy:
            for row in rows:
                copy.write_row(
                    [
                        json.dumps(row[c], separators=(",", ":"))
                        if c in JSON_COLUMNS and row[c] is not None
                        else row[c]
                        for c in columns
                    ]
                )
        self.conn.execute(
            f"insert into {table} ({names}) select {names} from {staging} on conflict do nothing"
        )
