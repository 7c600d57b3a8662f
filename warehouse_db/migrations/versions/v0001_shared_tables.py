"""The tables the products write (docs/REFERENCE.md, Tables the products write): events, users, entitlements, assets."""

from __future__ import annotations

from acd_analytics.warehouse_url import Backend

from warehouse_db.migrations.versions.dialect import full_match, json_type

VERSION = 1
NAME = "shared_tables"

PRODUCT_PATTERN = "^[a-z][a-z0-9-]{1,39}$"
EVENT_NAME_PATTERN = "^[a-z][a-z0-9_]{0,127}$"


def statements(backend: Backend) -> list[str]:
    json = json_type(backend)
    ddl = [
        f"""
        create table shared_events (
            event_id uuid primary key,
            product text not null
                constraint shared_events_product_format check ({full_match(backend, "product", PRODUCT_PATTERN)}),
            event_name text not null
                constraint shared_events_event_name_format check ({full_match(backend, "event_name", EVENT_NAME_PATTERN)}),
            user_id text,
            anonymous_id text,
            session_id text,
            occurred_at timestamptz not null,
            sent_at timestamptz,
            received_at timestamptz not null default current_timestamp,
            properties {json} not null,
            context {json} not null,
            library text,
            constraint shared_events_user_id_or_anonymous_id check (user_id is not null or anonymous_id is not null)
        )
        """,
        """
        create table shared_users (
            id text primary key,
            email text,
            display_name text,
            stripe_customer_id text,
            created_at timestamptz not null,
            updated_at timestamptz not null
        )
        """,
        f"""
        create table shared_entitlements (
            id text primary key,
            user_id text,
            product text not null
                constraint shared_entitlements_product_format check ({full_match(backend, "product", PRODUCT_PATTERN)}),
            plan text,
            status text not null
                constraint shared_entitlements_status check (status in ('active', 'pending', 'revoked')),
            source_app text,
            source_purchase_id text,
            pending_for_email text,
            granted_at timestamptz,
            revoked_at timestamptz,
            expires_at timestamptz,
            constraint shared_entitlements_user_id_or_pending_for_email check (user_id is not null or pending_for_email is not null)
        )
        """,
        f"""
        create table shared_assets (
            id text primary key,
            sha256 text not null unique
                constraint shared_assets_sha256_format check ({full_match(backend, "sha256", "^[0-9a-f]{64}$")}),
            kind text not null
                constraint shared_assets_kind check (kind in ('image', 'video', 'audio')),
            source text,
            product text not null
                constraint shared_assets_product_format check ({full_match(backend, "product", PRODUCT_PATTERN)}),
            user_id text,
            uri text,
            bytes bigint constraint shared_assets_bytes_nonnegative check (bytes >= 0),
            created_at timestamptz not null,
            tags {json}
        )
        """,
    ]
    if backend == "postgres":
        # DuckDB prunes scans with per-row-group min/max zonemaps and pays for every ART
        # index on each append, so these read paths get indexes on PostgreSQL only.
        ddl += [
            "create index shared_events_occurred_at_idx on shared_events (occurred_at)",
            "create index shared_events_product_occurred_at_idx on shared_events (product, occurred_at)",
            "create index shared_events_user_id_idx on shared_events (user_id) where user_id is not null",
            "create index shared_events_anonymous_id_idx on shared_events (anonymous_id) where anonymous_id is not null",
            "create index shared_events_received_at_idx on shared_events (received_at)",
            "create index shared_users_email_idx on shared_users (lower(email))",
            "create index shared_users_stripe_customer_id_idx on shared_users (stripe_customer_id)",
            "create index shared_entitlements_user_id_idx on shared_entitlements (user_id)",
            "create index shared_entitlements_source_purchase_id_idx on shared_entitlements (source_purchase_id)",
            "create index shared_assets_product_idx on shared_assets (product)",
        ]
    return ddl
