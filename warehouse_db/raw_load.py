"""The one place that writes API objects into the raw schemas (docs/REFERENCE.md, Raw schemas), on either backend.

A connector hands over a page (or a restated window) of rows: the table's key columns plus
`payload`, the full API object. `RawWriter.upsert` stages them set-based (DuckDB: an Arrow
table; PostgreSQL: COPY into a temporary table), then upserts on the primary key, changing a
row only when its payload differs, so re-running an identical ingest changes nothing, not
even `_loaded_at`. With `replace=`, rows of that account and date range that the new pull
no longer has are deleted (a restated window: Meta's last 28 days, TikTok's 7), which with
the upsert equals delete-then-insert but leaves unchanged rows untouched.

The stream cursor goes through `save_cursor` inside the same `transaction()` as the rows it
covers, so a crash at any point resumes without gaps or duplicates.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from typing import Any

from acd_analytics.warehouse_url import Backend

from warehouse_db.connection import transaction
from warehouse_db.raw_schema import RawTable, raw_table

LOAD_COLUMNS = ("payload", "_account_id")


@dataclass(frozen=True)
class ReplaceWindow:
    """Rows of `account_id` with `column` between `since` and `until` (inclusive) that are
    not in the new rows are deleted."""

    column: str
    since: date
    until: date


def dump_payload(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


class RawWriter:
    """Writes raw rows and sync cursors over one open connection (`warehouse_db.connect`)."""

    def __init__(self, conn: Any, backend: Backend) -> None:
        self.conn = conn
        self.backend = backend
        self._param = "?" if backend == "duckdb" else "%s"
        self._in_transaction = False

    @contextmanager
    def transaction(self) -> Iterator[RawWriter]:
        if self._in_transaction:
            yield self
            return
        self._in_transaction = True
        try:
            with transaction(self.conn):
                yield self
        finally:
            self._in_transaction = False

    # -- rows ---------------------------------------------------------------------------

    def upsert(
        self,
        schema: str,
        table: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        account_id: str,
        replace: ReplaceWindow | None = None,
    ) -> int:
        """Upsert `rows` (each: the key columns and `payload`); returns rows inserted or
        changed (plus rows deleted by `replace`). Runs in a transaction of its own unless
        called inside `transaction()`."""
        spec = raw_table(schema, table)
        staged = _dedupe(spec, rows)
        with self.transaction():
            if self.backend == "duckdb":
                return self._upsert_duckdb(spec, staged, account_id, replace)
            return self._upsert_postgres(spec, staged, account_id, replace)

    def _merge_sql(self, spec: RawTable, stage: str, json_cast: str) -> str:
        columns = [*spec.columns, *LOAD_COLUMNS]
        selected = [*spec.columns, f"payload{json_cast}", "_account_id"]
        updates = [c for c in columns if c not in spec.primary_key]
        text_cast = "::varchar" if self.backend == "duckdb" else ""
        return (
            f"insert into {spec.name} as target ({', '.join(columns)}) "
            f"select {', '.join(selected)} from {stage} "
            f"on conflict ({', '.join(spec.primary_key)}) do update set "
            + ", ".join(f"{c} = excluded.{c}" for c in updates)
            + ", _loaded_at = now() "
            f"where target.payload{text_cast} is distinct from excluded.payload{text_cast}"
        )

    def _delete_sql(self, spec: RawTable, stage: str, replace: ReplaceWindow) -> str:
        p = self._param
        match = " and ".join(f"staged.{c} = {spec.name}.{c}" for c in spec.primary_key)
        return (
            f"delete from {spec.name} where _account_id = {p} "
            f"and {replace.column} between {p} and {p} "
            f"and not exists (select 1 from {stage} as staged where {match})"
        )

    def _upsert_duckdb(
        self,
        spec: RawTable,
        rows: list[tuple[Any, ...]],
        account_id: str,
        replace: ReplaceWindow | None,
    ) -> int:
        import pyarrow as pa

        arrow_types = {
            "text": pa.string(),
            "date": pa.date32(),
            "timestamptz": pa.timestamp("us", tz="UTC"),
            "timestamp": pa.timestamp("us"),
        }
        names = [*spec.columns, *LOAD_COLUMNS]
        types = [arrow_types[t] for t in spec.types] + [pa.string(), pa.string()]
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        payload_index = len(spec.columns)
        arrays = [
            pa.array([*values] if i != payload_index + 1 else [account_id] * len(rows), type=kind)
            for i, (values, kind) in enumerate(zip(columns, types, strict=True))
        ]
        stage = f"_raw_stage_{spec.schema}_{spec.table}"
        self.conn.register(stage, pa.Table.from_arrays(arrays, names=names))
        try:
            changed = 0
            if replace is not None:
                changed += self._count(
                    self.conn.execute(
                        self._delete_sql(spec, stage, replace),
                        [account_id, replace.since, replace.until],
                    )
                )
            if rows:
                changed += self._count(self.conn.execute(self._merge_sql(spec, stage, "::json")))
            return changed
        finally:
            with suppress(Exception):  # an aborted transaction refuses even this
                self.conn.unregister(stage)

    def _upsert_postgres(
        self,
        spec: RawTable,
        rows: list[tuple[Any, ...]],
        account_id: str,
        replace: ReplaceWindow | None,
    ) -> int:
        stage = f"_raw_stage_{spec.table}"
        columns = [*spec.columns, *LOAD_COLUMNS]
        with self.conn.cursor() as cur:
            cur.execute(
                f"create temp table if not exists {stage} "
                f"(like {spec.name} including defaults) on commit delete rows"
            )
            cur.execute(f"truncate {stage}")
            if rows:
                with cur.copy(f"copy {stage} ({', '.join(columns)}) from stdin") as copy:
                    for row in rows:
                        copy.write_row((*row[:-1], account_id))
            changed = 0
            if replace is not None:
                cur.execute(
                    self._delete_sql(spec, stage, replace),
                    (account_id, replace.since, replace.until),
                )
                changed += max(cur.rowcount, 0)
            if rows:
                cur.execute(self._merge_sql(spec, stage, ""))
                changed += max(cur.rowcount, 0)
            return changed

    @staticmethod
    def _count(result: Any) -> int:
        row = result.fetchone()
        return int(row[0]) if row else 0

    # -- cursors --------------------------------------------------------------------------

    def read_cursor(self, schema: str, stream: str, account_id: str) -> str | None:
        p = self._param
        row = self.conn.execute(
            f"select cursor_value from {schema}._sync_state where stream = {p} and account_id = {p}",
            (stream, account_id),
        ).fetchone()
        return None if row is None else row[0]

    def save_cursor(self, schema: str, stream: str, account_id: str, value: str | None) -> None:
        """Set a stream's cursor; an unchanged value leaves the row (and `updated_at`) as is."""
        p = self._param
        self.conn.execute(
            f"insert into {schema}._sync_state as state (stream, account_id, cursor_value) "
            f"values ({p}, {p}, {p}) on conflict (stream, account_id) do update set "
            "cursor_value = excluded.cursor_value, updated_at = now() "
            "where state.cursor_value is distinct from excluded.cursor_value",
            (stream, account_id, value),
        )

    def delete_cursor(self, schema: str, stream: str, account_id: str) -> None:
        p = self._param
        self.conn.execute(
            f"delete from {schema}._sync_state where stream = {p} and account_id = {p}",
            (stream, account_id),
        )


def _dedupe(spec: RawTable, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    """Rows as tuples (columns…, payload json, account placeholder), last one per key wins
    (a live report can repeat a row across pages; an upsert may not see a key twice)."""
    by_key: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for row in rows:
        values = tuple(row[c] for c in spec.columns)
        key = tuple(row[c] for c in spec.primary_key)
        by_key[key] = (*values, dump_payload(row["payload"]), None)
    return list(by_key.values())
