"""Login roles for products and analysts on a PostgreSQL warehouse (docs/REFERENCE.md, Tables the products write).

A product role may insert and read only its own product's rows of `shared_events` and
`shared_assets` (row-level security, migration 3); an analyst role reads everything. Role
names are prefixed with the database name because PostgreSQL roles are cluster-wide while
the access map is per database.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from urllib.parse import quote

from acd_analytics.warehouse_url import WarehouseTarget

from warehouse_db.connection import connect, transaction
from warehouse_db.migrations import current_version
from warehouse_db.migrations.versions.v0003_product_isolation import VERSION as ISOLATION_MIGRATION

PRODUCT_SLUG = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
ANALYST_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Analysts read every schema the warehouse writes; dbt's are created here if dbt has not run yet.
ANALYST_SCHEMAS = (
    "public",
    "raw_meta",
    "raw_tiktok",
    "raw_stripe",
    "staging",
    "intermediate",
    "marts",
)


# The read API's role (docs/API.md): the marts, its keys and the build times; it adds to the
# audit log and nothing else. Its statement timeout is the role's default.
API_ROLE_NAME = "api"
API_STATEMENT_TIMEOUT_MS = 10_000


class RoleError(ValueError):
    """A role could not be created; the message names the argument or setting."""


@dataclass(frozen=True)
class CreatedRole:
    role_name: str
    connection_url: str  # carries the new password: print it for the product, never log it


def create_product_role(target: WarehouseTarget, product: str) -> CreatedRole:
    """Create the login role for `product`, or rotate its password if it exists."""
    if not PRODUCT_SLUG.fullmatch(product):
        raise RoleError(f"product {product!r} must match {PRODUCT_SLUG.pattern}")
    return _create_role(
        target,
        name=product,
        product=product,
        grants=[
            "grant usage on schema public to {role}",
            "grant select, insert on shared_events to {role}",
            "grant select, insert, update, delete on shared_assets to {role}",
        ],
    )


def create_analyst_role(target: WarehouseTarget, name: str) -> CreatedRole:
    """Create a read-everything login role, or rotate its password; re-run after new schemas."""
    if not ANALYST_NAME.fullmatch(name):
        raise RoleError(f"analyst name {name!r} must match {ANALYST_NAME.pattern}")
    grants: list[str] = []
    for schema in ANALYST_SCHEMAS:
        grants += [
            f"create schema if not exists {schema}",
            f"grant usage on schema {schema} to {{role}}",
            f"grant select on all tables in schema {schema} to {{role}}",
            f"alter default privileges in schema {schema} grant select on tables to {{role}}",
        ]
    return _create_role(target, name=name, product=None, grants=grants)


def create_api_role(
    target: WarehouseTarget, statement_timeout_ms: int = API_STATEMENT_TIMEOUT_MS
) -> CreatedRole:
    """Create the read API's login role, or rotate its password: it can read the marts schema,
    look up read keys and mart build times, and insert audit rows; nothing else."""
    grants = [
        "create schema if not exists marts",
        "grant usage on schema marts to {role}",
        "grant select on all tables in schema marts to {role}",
        "alter default privileges in schema marts grant select on tables to {role}",
        "grant usage on schema public to {role}",
        "grant select on api_keys, acd_mart_builds to {role}",
        "grant insert on api_audit_log to {role}",
        f"alter role {{role}} set statement_timeout = {int(statement_timeout_ms)}",
    ]
    return _create_role(target, name=API_ROLE_NAME, product=None, grants=grants, access_map=False)


def _create_role(
    target: WarehouseTarget,
    *,
    name: str,
    product: str | None,
    grants: list[str],
    access_map: bool = True,
) -> CreatedRole:
    if target.backend != "postgres":
        raise RoleError(
            "roles need a PostgreSQL warehouse: ACD_WAREHOUSE_URL points at DuckDB, an embedded single-user file"
        )
    assert target.database is not None
    role_name = f"{target.database}_{name}".lower().replace("-", "_")
    if len(role_name) > 63:
        raise RoleError(
            f"role name {role_name!r} is longer than PostgreSQL's 63 characters: use a shorter name"
        )
    password = secrets.token_urlsafe(24)

    from psycopg import sql

    role = sql.Identifier(role_name)
    with connect(target) as conn, transaction(conn):
        if current_version(conn) < ISOLATION_MIGRATION:
            raise RoleError(
                "the warehouse has no access map yet: run `acd-warehouse migrate` first"
            )
        existing = conn.execute(
            "select product from acd_access_roles where role_name = %s", (role_name,)
        ).fetchall()
        if not access_map and existing:
            raise RoleError(f"role {role_name!r} already belongs to a product or an analyst")
        if existing and existing[0][0] != product:
            raise RoleError(
                f"role {role_name!r} already exists for {existing[0][0] or 'analysts'!r}"
            )
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (role_name,)).fetchall()
        verb = "alter" if exists else "create"
        conn.execute(
            sql.SQL(verb + " role {} with login noinherit password {}").format(
                role, sql.Literal(password)
            )
        )
        if access_map and not existing:
            conn.execute(
                "insert into acd_access_roles (role_name, product) values (%s, %s)",
                (role_name, product),
            )
        for grant in grants:
            conn.execute(sql.SQL(grant).format(role=role))
    user = quote(role_name, safe="")
    url = f"postgresql+psycopg://{user}:{quote(password, safe='')}@{target.host}:{target.port}/{target.database}"
    return CreatedRole(role_name=role_name, connection_url=url)
