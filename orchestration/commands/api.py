"""`api` and `api-keys`: serve the read API over the marts and manage its read keys."""

from __future__ import annotations

import argparse
import os

from acd_analytics.warehouse_url import WarehouseTarget

from api.catalog import CatalogError, load_catalog
from api.keys import ReadKeyError, create_read_key, list_read_keys, parse_marts, revoke_read_key
from api.settings import InvalidApiSetting, api_settings
from orchestration.commands import Subcommands
from serving.server import serve
from warehouse_db.connection import connect
from warehouse_db.migrations import current_version
from warehouse_db.migrations.versions.v0006_read_api import VERSION as READ_API_MIGRATION
from warehouse_db.roles import RoleError, create_api_role


class ApiNotReady(RuntimeError):
    """The warehouse lacks the read API's tables."""


def _require_migrated(target: WarehouseTarget) -> None:
    with connect(target) as conn:
        version = current_version(conn)
    if version < READ_API_MIGRATION:
        raise ApiNotReady(
            f"the warehouse {target.redacted()} is at migration {version}: "
            "run `acd-warehouse migrate` first"
        )


ERRORS: tuple[type[Exception], ...] = (
    ReadKeyError,
    InvalidApiSetting,
    ApiNotReady,
    CatalogError,
    RoleError,
)


def cmd_api(args: argparse.Namespace, target: WarehouseTarget) -> None:
    settings = api_settings()  # refuse bad ACD_API_* settings before starting workers
    _require_migrated(target)
    if target.backend == "postgres" and not settings.reader_url:
        # The API role is made (its password set) once, here, and every worker logs in with
        # it: workers making it themselves would each set a new password under the others'
        # pools, and two doing so at once fail ("tuple concurrently updated").
        role = create_api_role(target, settings.statement_timeout_ms)
        os.environ["ACD_API_WAREHOUSE_URL"] = role.connection_url
    serve("api.app:create_app", target, host=args.host, port=args.port, workers=args.workers)


def cmd_create(args: argparse.Namespace, target: WarehouseTarget) -> None:
    _require_migrated(target)
    catalog = None
    if args.marts is not None and args.marts.strip() != "all":
        from orchestration.defs.dbt.project import ensure_manifest

        catalog = load_catalog(ensure_manifest())
    key, secret = create_read_key(target, args.name, args.product, parse_marts(args.marts, catalog))
    scope = f"product {key.product}" if key.product else "every product (analyst)"
    print(f"read key {key.key_id} ({key.name}): {scope}, marts: {key.marts_label()}")
    print("the key is shown once and stored only as a hash:")
    print(secret)


def cmd_list(args: argparse.Namespace, target: WarehouseTarget) -> None:
    keys = list_read_keys(target)
    if not keys:
        print("no read keys (create one with `acd-warehouse api-keys create --name NAME`)")
        return
    print(
        f"{'key_id':<16} {'name':<24} {'product':<14} {'created_at':<26} {'revoked_at':<26} marts"
    )
    for key in keys:
        created = key.created_at.isoformat(timespec="seconds") if key.created_at else ""
        revoked = key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "-"
        print(
            f"{key.key_id:<16} {key.name:<24} {key.product or '*':<14} {created:<26} "
            f"{revoked:<26} {key.marts_label()}"
        )


def cmd_revoke(args: argparse.Namespace, target: WarehouseTarget) -> None:
    key = revoke_read_key(target, args.key_id)
    print(f"read key {key.key_id} ({key.name}) revoked")


def register(commands: Subcommands) -> None:
    server = commands.add_parser("api", help="serve the read API over the marts")
    server.add_argument("--host", default="127.0.0.1", help="address to listen on")
    server.add_argument("--port", type=int, default=8081, help="port to listen on")
    server.add_argument("--workers", type=int, default=1, help="worker processes")
    server.set_defaults(handler=cmd_api)

    keys = commands.add_parser("api-keys", help="the read API's keys")
    key_commands = keys.add_subparsers(
        dest="api_keys_command", required=True, metavar="API_KEYS_COMMAND"
    )
    create = key_commands.add_parser("create", help="create a read key and print it once")
    create.add_argument("--name", required=True, help="who holds the key, e.g. pct-backend")
    create.add_argument(
        "--product", help="the product whose rows the key reads (default: every product)"
    )
    create.add_argument(
        "--marts",
        metavar="NAME,…|all",
        help="the marts the key may read (default: a product key, the marts with a product "
        "column; an analyst key, all)",
    )
    create.set_defaults(handler=cmd_create)
    key_commands.add_parser("list", help="list the read keys").set_defaults(handler=cmd_list)
    revoke = key_commands.add_parser("revoke", help="revoke a read key")
    revoke.add_argument("key_id", metavar="KEY_ID", help="the key's id (rk_…), see `api-keys list`")
    revoke.set_defaults(handler=cmd_revoke)
