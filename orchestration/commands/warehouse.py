"""`migrate` and `demo`: the warehouse's tables and the main job on them."""

from __future__ import annotations

import argparse
from pathlib import Path

from acd_analytics.warehouse_url import WarehouseTarget

from orchestration.commands import Subcommands
from warehouse_db.connection import connect
from warehouse_db.inventory import table_row_counts
from warehouse_db.migrations import MigrationError, migrate

ERRORS: tuple[type[Exception], ...] = (MigrationError,)


def cmd_migrate(args: argparse.Namespace, target: WarehouseTarget) -> None:
    applied = migrate(target)
    if applied:
        for migration in applied:
            print(f"applied migration {migration.version}: {migration.name}")
    else:
        print("warehouse is up to date")
    print(f"warehouse: {target.redacted()}")


def cmd_demo(args: argparse.Namespace, target: WarehouseTarget) -> None:
    # Until seeding, ingest and the dbt build exist, the demo is: a fresh warehouse, migrated.
    if target.backend == "duckdb" and target.duckdb_path != ":memory:":
        for path in (Path(target.duckdb_path or ""), Path(f"{target.duckdb_path}.wal")):
            path.unlink(missing_ok=True)
        print(f"fresh embedded warehouse: {target.duckdb_path}")
    cmd_migrate(args, target)
    with connect(target) as conn:
        counts = table_row_counts(conn)
    print(f"{len(counts)} tables:")
    for schema, table, rows in counts:
        name = f"{schema}.{table}"
        print(f"  {name:<36} {rows:>12,} rows")


def register(commands: Subcommands) -> None:
    commands.add_parser("migrate", help="create or upgrade the warehouse tables").set_defaults(
        handler=cmd_migrate
    )
    commands.add_parser(
        "demo", help="the main job on a fresh warehouse (a DuckDB file is recreated)"
    ).set_defaults(handler=cmd_demo)
