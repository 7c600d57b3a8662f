"""The read API's tables (docs/API.md): its keys, its audit log, and when each mart was built.

`api_keys` holds one row per read key: only the SHA-256 of the key is stored, with a name
(who holds it), the product whose rows it reads (null: an analyst key, every row) and the marts
it may read (`marts`: a JSON array of mart names, `["*"]` for every mart, or null for the
default — a product key reads the marts with a product column, an analyst key every mart).
A revoked key keeps its row, with `revoked_at` set. Read keys are secrets and live apart from
the collector's public write keys (`collector_write_keys`).

`api_audit_log` has a row per request the API answered: the key's id and name (null when the
request had no valid key), method, path, query string (any key-like value replaced), status,
rows returned, duration and time. Never the key itself.

`acd_mart_builds` is written by dbt (a post-hook of every mart, dbt_project/macros/
mart_builds.sql): the start of the run that last built each mart and the run's id.
"""

from __future__ import annotations

from acd_analytics.warehouse_url import Backend

from warehouse_db.migrations.versions.dialect import full_match, json_type

VERSION = 6
NAME = "read_api"

PRODUCT_PATTERN = "^[a-z][a-z0-9-]{1,39}$"


def statements(backend: Backend) -> list[str]:
    json = json_type(backend)
    ddl = [
        f"""
        create table api_keys (
            key_id text primary key,
            key_sha256 text not null unique
                constraint api_keys_sha256_format check ({full_match(backend, "key_sha256", "^[0-9a-f]{64}$")}),
            name text not null,
            product text
                constraint api_keys_product_format check ({full_match(backend, "product", PRODUCT_PATTERN)}),
            marts {json},
            created_at timestamptz not null default current_timestamp,
            revoked_at timestamptz
        )
        """,
        """
        create table api_audit_log (
            request_id uuid primary key,
            key_id text,
            key_name text,
            method text not null,
            path text not null,
            query text not null,
            status integer not null,
            rows_returned bigint,
            duration_ms double precision not null,
            requested_at timestamptz not null
        )
        """,
        """
        create table if not exists acd_mart_builds (
            mart text primary key,
            built_at timestamptz not null,
            invocation_id text not null
        )
        """,
    ]
    if backend == "postgres":
        ddl.append("create index api_audit_log_requested_at_idx on api_audit_log (requested_at)")
    return ddl
