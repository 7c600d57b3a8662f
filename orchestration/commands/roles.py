"""`roles create-product|create-analyst`: PostgreSQL logins for products and analysts."""

from __future__ import annotations

import argparse

from acd_analytics.warehouse_url import WarehouseTarget

from orchestration.commands import Subcommands
from warehouse_db.roles import RoleError, create_analyst_role, create_product_role

ERRORS: tuple[type[Exception], ...] = (RoleError,)


def cmd_create_product(args: argparse.Namespace, target: WarehouseTarget) -> None:
    created = create_product_role(target, args.slug)
    print(f"role {created.role_name}: give this URL to the product as ACD_WAREHOUSE_URL")
    print(created.connection_url)


def cmd_create_analyst(args: argparse.Namespace, target: WarehouseTarget) -> None:
    created = create_analyst_role(target, args.name)
    print(f"role {created.role_name}: read-only access to every warehouse schema")
    print(created.connection_url)


def register(commands: Subcommands) -> None:
    roles = commands.add_parser("roles", help="PostgreSQL login roles for products and analysts")
    role_commands = roles.add_subparsers(
        dest="roles_command", required=True, metavar="ROLES_COMMAND"
    )
    product = role_commands.add_parser(
        "create-product",
        help="create (or rotate the password of) a product's role and print its URL",
    )
    product.add_argument("slug", help="the product slug, e.g. portal28")
    product.set_defaults(handler=cmd_create_product)
    analyst = role_commands.add_parser(
        "create-analyst", help="create (or rotate) a read-all analyst role"
    )
    analyst.add_argument("name", help="the analyst's name, e.g. alice")
    analyst.set_defaults(handler=cmd_create_analyst)
