"""`migrate`: create or upgrade the warehouse tables."""

from __future__ import annotations

import argparse

from acd_analytics.warehouse_url import WarehouseTarget

from orchestration.commands import Subcommands
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


def register(commands: Subcommands) -> None:
    commands.add_parser("migrate", help="create or upgrade the warehouse tables").set_defaults(
        handler=cmd_migrate
    )
