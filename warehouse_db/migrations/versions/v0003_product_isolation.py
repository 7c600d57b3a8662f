"""Row-level security that isolates products on PostgreSQL (docs/REFERENCE.md, Tables the products write).

`acd_access_roles` maps each login role made by `acd-warehouse roles` to the product whose
rows it may touch (`product` null: an analyst, who reads every row). The policies apply to
every role except the owner, so a role that is not in the map sees and writes nothing.
DuckDB is an embedded single-user file with no roles: there this migration creates nothing.
"""

from __future__ import annotations

from acd_analytics.warehouse_url import Backend

VERSION = 3
NAME = "product_isolation"

ISOLATED_TABLES = ("shared_events", "shared_assets")


def statements(backend: Backend) -> list[str]:
    if backend != "postgres":
        return []
    ddl = [
        """
        create table acd_access_roles (
            role_name text primary key,
            product text,
            created_at timestamptz not null default current_timestamp
        )
        """,
        # Policies read the map as the querying role, so every role may read it (it holds
        # role and product names only); only the owner writes it.
        "grant select on acd_access_roles to public",
    ]
    own_product = "product in (select product from acd_access_roles where role_name = current_user)"
    is_analyst = (
        "exists (select 1 from acd_access_roles where role_name = current_user and product is null)"
    )
    for table in ISOLATED_TABLES:
        ddl += [
            f"alter table {table} enable row level security",
            f"create policy {table}_own_product on {table} for all to public using ({own_product}) with check ({own_product})",
            f"create policy {table}_analysts_read on {table} for select to public using ({is_analyst})",
        ]
    return ddl
