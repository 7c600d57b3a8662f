"""The collector's tables (docs/COLLECTOR.md): write keys and rejected messages.

`collector_write_keys` holds one row per write key: only the SHA-256 of the key is stored,
with the product every event sent with it belongs to and the browser origins it accepts
(a JSON array; empty: any origin). A revoked key keeps its row, with `revoked_at` set.

`shared_events_rejected` keeps what could not become a `shared_events` row: the raw message
(cut to 32 KB, so stored as text: a cut message is no longer JSON), the product of the key it
came with (null when the key itself was the problem), why (`reason_code`, and `reason` naming
the field) and who refused it (`source`: the collector or the SDK). `rejected_id` is chosen
when the message is refused, so that loading the same rejection twice stores it once.
"""

from __future__ import annotations

from acd_analytics.warehouse_url import Backend

from warehouse_db.migrations.versions.dialect import full_match, json_type

VERSION = 5
NAME = "collector"

PRODUCT_PATTERN = "^[a-z][a-z0-9-]{1,39}$"


def statements(backend: Backend) -> list[str]:
    json = json_type(backend)
    ddl = [
        f"""
        create table collector_write_keys (
            key_id text primary key,
            key_sha256 text not null unique
                constraint collector_write_keys_sha256_format check ({full_match(backend, "key_sha256", "^[0-9a-f]{64}$")}),
            product text not null
                constraint collector_write_keys_product_format check ({full_match(backend, "product", PRODUCT_PATTERN)}),
            allowed_origins {json} not null,
            created_at timestamptz not null default current_timestamp,
            revoked_at timestamptz
        )
        """,
        """
        create table shared_events_rejected (
            rejected_id uuid primary key,
            product text,
            received_at timestamptz not null,
            source text not null
                constraint shared_events_rejected_source check (source in ('collector', 'sdk')),
            reason_code text not null,
            reason text not null,
            payload text not null
        )
        """,
    ]
    if backend == "postgres":
        own_product = (
            "product in (select product from acd_access_roles where role_name = current_user)"
        )
        is_analyst = "exists (select 1 from acd_access_roles where role_name = current_user and product is null)"
        ddl += [
            "create index shared_events_rejected_received_at_idx on shared_events_rejected (received_at)",
            # Isolated like shared_events (v0003): a product role sees its own rejections.
            "alter table shared_events_rejected enable row level security",
            f"create policy shared_events_rejected_own_product on shared_events_rejected for all to public using ({own_product}) with check ({own_product})",
            f"create policy shared_events_rejected_analysts_read on shared_events_rejected for select to public using ({is_analyst})",
        ]
    return ddl
