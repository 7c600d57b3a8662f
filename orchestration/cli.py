"""The `acd-warehouse` command line (SPEC §4).

Each command is a thin shell around a library call; any failure ends the process with a
non-zero status and one line on stderr that says what went wrong, with secrets redacted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from acd_analytics.warehouse_url import InvalidWarehouseURL, WarehouseTarget

from warehouse_db.connection import WarehouseUnavailable, connect, warehouse_target
from warehouse_db.inventory import table_row_counts
from warehouse_db.migrations import MigrationError, migrate
from warehouse_db.roles import RoleError, create_analyst_role, create_product_role

# Errors whose message is already the one line a user needs.
EXPECTED_ERRORS: tuple[type[Exception], ...] = (
    InvalidWarehouseURL,
    WarehouseUnavailable,
    MigrationError,
    RoleError,
)


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


def cmd_roles_create_product(args: argparse.Namespace, target: WarehouseTarget) -> None:
    created = create_product_role(target, args.slug)
    print(f"role {created.role_name}: give this URL to the product as ACD_WAREHOUSE_URL")
    print(created.connection_url)


def cmd_roles_create_analyst(args: argparse.Namespace, target: WarehouseTarget) -> None:
    created = create_analyst_role(target, args.name)
    print(f"role {created.role_name}: read-only access to every warehouse schema")
    print(created.connection_url)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="acd-warehouse",
        description="ACD Warehouse: product events, ad spend and Stripe revenue in one warehouse. "
        "The warehouse is ACD_WAREHOUSE_URL (default duckdb:///warehouse/acd.duckdb).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    migrate_parser = commands.add_parser("migrate", help="create or upgrade the warehouse tables")
    migrate_parser.set_defaults(handler=cmd_migrate)

    demo = commands.add_parser(
        "demo", help="the main job on a fresh warehouse (DuckDB file recreated)"
    )
    demo.set_defaults(handler=cmd_demo)

    roles = commands.add_parser("roles", help="PostgreSQL login roles for products and analysts")
    role_commands = roles.add_subparsers(
        dest="roles_command", required=True, metavar="ROLES_COMMAND"
    )
    product = role_commands.add_parser(
        "create-product",
        help="create (or rotate the password of) a product's role and print its URL",
    )
    product.add_argument("slug", help="the product slug, e.g. portal28")
    product.set_defaults(handler=cmd_roles_create_product)
    analyst = role_commands.add_parser(
        "create-analyst", help="create (or rotate) a read-all analyst role"
    )
    analyst.add_argument("name", help="the analyst's name, e.g. alice")
    analyst.set_defaults(handler=cmd_roles_create_analyst)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace, WarehouseTarget], None] = args.handler
    try:
        handler(args, warehouse_target())
    except EXPECTED_ERRORS as exc:
        print(f"acd-warehouse {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"acd-warehouse {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug or a database error: still one line, never a traceback
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"acd-warehouse {args.command}: {type(exc).__name__}: {detail}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
