"""`collector` and `keys`: serve the HTTP event collector and manage its write keys."""

from __future__ import annotations

import argparse

from acd_analytics.warehouse_url import WarehouseTarget

from collector.keys import WriteKeyError, create_key, list_keys, revoke_key
from collector.settings import InvalidCollectorSetting, collector_settings
from orchestration.commands import Subcommands
from serving.server import serve
from warehouse_db.connection import connect
from warehouse_db.migrations import current_version


class CollectorNotReady(RuntimeError):
    """The warehouse lacks the collector's tables."""


def _require_migrated(target: WarehouseTarget) -> None:
    with connect(target) as conn:
        version = current_version(conn)
    if version < 5:
        raise CollectorNotReady(
            f"the warehouse {target.redacted()} is at migration {version}: "
            "run `acd-warehouse migrate` first"
        )


ERRORS: tuple[type[Exception], ...] = (WriteKeyError, InvalidCollectorSetting, CollectorNotReady)


def cmd_collector(args: argparse.Namespace, target: WarehouseTarget) -> None:
    collector_settings()  # refuse bad ACD_COLLECTOR_* settings before starting workers
    _require_migrated(target)
    # The app reads X-Forwarded-For itself, from ACD_COLLECTOR_TRUSTED_PROXIES only.
    serve("collector.app:create_app", target, host=args.host, port=args.port, workers=args.workers)


def cmd_keys_create(args: argparse.Namespace, target: WarehouseTarget) -> None:
    key, secret = create_key(target, args.product, args.origin or [])
    origins = ", ".join(key.allowed_origins) or "any origin"
    print(f"write key {key.key_id} for product {key.product} ({origins})")
    print("the key is shown once and stored only as a hash:")
    print(secret)


def cmd_keys_list(args: argparse.Namespace, target: WarehouseTarget) -> None:
    keys = list_keys(target)
    if not keys:
        print("no write keys (create one with `acd-warehouse keys create --product SLUG`)")
        return
    print(f"{'key_id':<16} {'product':<20} {'created_at':<26} {'revoked_at':<26} origins")
    for key in keys:
        created = key.created_at.isoformat(timespec="seconds") if key.created_at else ""
        revoked = key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "-"
        origins = ", ".join(key.allowed_origins) or "*"
        print(f"{key.key_id:<16} {key.product:<20} {created:<26} {revoked:<26} {origins}")


def cmd_keys_revoke(args: argparse.Namespace, target: WarehouseTarget) -> None:
    key = revoke_key(target, args.key_id)
    print(f"write key {key.key_id} ({key.product}) revoked")


def register(commands: Subcommands) -> None:
    serve = commands.add_parser(
        "collector", help="serve the Segment-compatible HTTP event collector"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on")
    serve.add_argument(
        "--workers", type=int, default=1, help="worker processes (each with its own journal slot)"
    )
    serve.set_defaults(handler=cmd_collector)

    keys = commands.add_parser("keys", help="the collector's write keys")
    key_commands = keys.add_subparsers(dest="keys_command", required=True, metavar="KEYS_COMMAND")
    create = key_commands.add_parser("create", help="create a write key and print it once")
    create.add_argument("--product", required=True, help="the product slug, e.g. portal28")
    create.add_argument(
        "--origin",
        action="append",
        metavar="URL",
        help="a browser origin allowed to send with this key (repeatable; default: any)",
    )
    create.set_defaults(handler=cmd_keys_create)
    key_commands.add_parser("list", help="list the write keys").set_defaults(handler=cmd_keys_list)
    revoke = key_commands.add_parser("revoke", help="revoke a write key")
    revoke.add_argument("key_id", metavar="KEY_ID", help="the key's id (wk_…), see `keys list`")
    revoke.set_defaults(handler=cmd_keys_revoke)
