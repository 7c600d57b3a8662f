"""Versioned migrations of the warehouse tables (docs/REFERENCE.md, Tables the products write and Raw schemas).

Each migration is a module in `versions/` with a `VERSION`, a `NAME` and a function
`statements(backend) -> list[str]`. `migrate` applies the pending ones in order, each in its
own transaction together with its row in `acd_schema_migrations`, so a failure leaves the
database at the previous version. A migration file never changes once released; changes to
the schema are new versions.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from acd_analytics.warehouse_url import Backend, WarehouseTarget

from warehouse_db.connection import connect, transaction
from warehouse_db.migrations import versions

MIGRATIONS_TABLE = "acd_schema_migrations"
# Serialises concurrent `migrate` runs against one PostgreSQL database.
_PG_LOCK_KEY = 0x0ACD_0001


class MigrationError(RuntimeError):
    """A migration failed or the database is at a version this code does not know."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: Callable[[Backend], list[str]]


def all_migrations() -> list[Migration]:
    found = [_load(module) for module in _version_modules()]
    found.sort(key=lambda m: m.version)
    numbers = [m.version for m in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise MigrationError(f"migration versions must run 1..n without gaps, found {numbers}")
    return found


def current_version(conn: Any) -> int:
    """The highest applied migration; 0 for a database that was never migrated."""
    exists = conn.execute(
        f"select count(*) from information_schema.tables where table_name = '{MIGRATIONS_TABLE}'"
    ).fetchall()
    if not exists[0][0]:
        return 0
    rows = conn.execute(f"select coalesce(max(version), 0) from {MIGRATIONS_TABLE}").fetchall()
    return int(rows[0][0])


def migrate(target: WarehouseTarget, *, to_version: int | None = None) -> list[Migration]:
    """Bring the warehouse up to `to_version` (default: latest); return what was applied."""
    migrations = all_migrations()
    latest = migrations[-1].version if migrations else 0
    goal = latest if to_version is None else to_version
    if not 0 <= goal <= latest:
        raise MigrationError(f"to_version must be between 0 and {latest}, got {goal}")
    applied: list[Migration] = []
    with connect(target) as conn:
        with transaction(conn):
            if target.backend == "postgres":
                conn.execute(f"select pg_advisory_xact_lock({_PG_LOCK_KEY})")
            conn.execute(
                f"create table if not exists {MIGRATIONS_TABLE} ("
                " version integer primary key,"
                " name text not null,"
                " applied_at timestamptz not null default current_timestamp)"
            )
        at = current_version(conn)
        if at > latest:
            raise MigrationError(
                f"the warehouse is at migration {at}, newer than this code knows ({latest}): "
                "upgrade acd-warehouse before migrating"
            )
        for migration in migrations:
            if not at < migration.version <= goal:
                continue
            try:
                with transaction(conn):
                    if target.backend == "postgres":
                        conn.execute(f"select pg_advisory_xact_lock({_PG_LOCK_KEY})")
                        if current_version(conn) >= migration.version:
                            continue  # another process applied it while we waited
                    for statement in migration.statements(target.backend):
                        conn.execute(statement)
                    conn.execute(
                        f"insert into {MIGRATIONS_TABLE} (version, name) values ({migration.version}, '{migration.name}')"
                    )
            except MigrationError:
                raise
            except Exception as exc:
                raise MigrationError(
                    f"migration {migration.version} ({migration.name}) failed: {str(exc).strip().splitlines()[0]}"
                ) from exc
            applied.append(migration)
    return applied


def _version_modules() -> list[ModuleType]:
    return [
        importlib.import_module(f"{versions.__name__}.{info.name}")
        for info in pkgutil.iter_modules(versions.__path__)
        if re.fullmatch(r"v\d{4}_\w+", info.name)
    ]


def _load(module: ModuleType) -> Migration:
    return Migration(version=module.VERSION, name=module.NAME, statements=module.statements)
