"""The current raw tables (docs/REFERENCE.md, Raw schemas): one definition of each.

`warehouse_db.raw_load` writes by these definitions, the connectors' stream settings name
their primary keys, and migration 2 (`v0002_raw_tables`) creates the tables from
`create_statements`. Every raw table keeps the full API object in `payload` beside its
natural-key columns and the load metadata `_account_id` (the ad account, advertiser or Stripe
account it came from) and `_loaded_at`. Each schema has a `_sync_state` table so that a
connector saves its cursor in the same transaction as the rows that cursor covers.

Changing a raw table takes two steps, because a released migration never changes: a new
migration alters the existing tables, and migration 2 gets a frozen copy of the definitions it
has always created (this module then describes the tables after the newest migration).
`tests/integration/test_migrations.py` checks that the migrated tables match this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from acd_analytics.warehouse_url import Backend

from warehouse_db.migrations.versions.dialect import json_type

# schema -> table -> (key and typed columns, primary key)
RAW_TABLES: dict[str, dict[str, tuple[list[str], list[str]]]] = {
    "raw_meta": {
        # One row per ad and account-local day (insights with time_increment=1, level=ad).
        "ads_insights": (
            ["ad_id text not null", "date_start date not null", "account_id text not null"],
            ["ad_id", "date_start"],
        ),
        # Every observed version of an ad: a new status or edit is a new row.
        "ads": (
            [
                "ad_id text not null",
                "updated_time timestamptz not null",
                "effective_status text not null",
                "account_id text not null",
            ],
            ["ad_id", "updated_time", "effective_status"],
        ),
    },
    "raw_tiktok": {
        # One row per ad and advertiser-local day (report/integrated/get, stat_time_day).
        "ad_reports": (
            ["ad_id text not null", "stat_time_day date not null", "advertiser_id text not null"],
            ["ad_id", "stat_time_day"],
        ),
        # Every observed version of an ad (operation status and modify_time).
        "ads": (
            [
                "ad_id text not null",
                "modify_time timestamp not null",
                "operation_status text not null",
                "advertiser_id text not null",
            ],
            ["ad_id", "modify_time", "operation_status"],
        ),
        # One snapshot of a video's cumulative counters per fetch (Display API video/list).
        "video_snapshots": (
            ["video_id text not null", "fetched_at timestamptz not null"],
            ["video_id", "fetched_at"],
        ),
    },
    "raw_stripe": {
        name: (["id text not null", "created timestamptz"], ["id"])
        for name in (
            "customers",
            "products",
            "prices",
            "subscriptions",
            "invoices",
            "charges",
            "refunds",
            "events",
        )
    }
    | {
        "subscription_items": (
            ["id text not null", "subscription_id text not null", "created timestamptz"],
            ["id"],
        ),
        "invoice_line_items": (
            ["id text not null", "invoice_id text not null"],
            ["invoice_id", "id"],
        ),
    },
}


@dataclass(frozen=True)
class RawTable:
    schema: str
    table: str
    columns: tuple[str, ...]  # key and typed columns, in DDL order (payload etc. excluded)
    types: tuple[str, ...]
    primary_key: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"


def raw_table(schema: str, table: str) -> RawTable:
    try:
        columns, primary_key = RAW_TABLES[schema][table]
    except KeyError:
        raise ValueError(f"no raw table {schema}.{table}") from None
    names = tuple(column.split()[0] for column in columns)
    types = tuple(column.split()[1] for column in columns)
    return RawTable(schema, table, names, types, tuple(primary_key))


def create_statements(backend: Backend) -> list[str]:
    """The DDL that creates every raw schema, its tables and its `_sync_state`, empty."""
    json = json_type(backend)
    ddl: list[str] = []
    for schema, tables in RAW_TABLES.items():
        ddl.append(f"create schema if not exists {schema}")
        for table, (columns, primary_key) in tables.items():
            body = ",\n    ".join(
                [
                    *columns,
                    f"payload {json} not null",
                    "_account_id text not null",
                    "_loaded_at timestamptz not null default current_timestamp",
                    f"primary key ({', '.join(primary_key)})",
                ]
            )
            ddl.append(f"create table {schema}.{table} (\n    {body}\n)")
        ddl.append(
            f"""
            create table {schema}._sync_state (
                stream text not null,
                account_id text not null,
                cursor_value text,
                updated_at timestamptz not null default current_timestamp,
                primary key (stream, account_id)
            )
            """
        )
    return ddl
