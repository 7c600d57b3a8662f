"""The `acd-warehouse` command line (docs/REFERENCE.md, Commands).

Each command is a thin shell around a library call (see `orchestration.commands`); any
failure ends the process with a non-zero status and one line on stderr that says what went
wrong, with secrets redacted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from acd_analytics.warehouse_url import InvalidWarehouseURL

from orchestration.commands import (
    Handler,
    api,
    build,
    collector,
    demo,
    ingest,
    report,
    roles,
    seed,
    warehouse,
)
from warehouse_db.connection import WarehouseUnavailable, warehouse_target

COMMAND_MODULES = (warehouse, seed, ingest, build, report, demo, roles, collector, api)
EXPECTED_ERRORS: tuple[type[Exception], ...] = (
    InvalidWarehouseURL,
    WarehouseUnavailable,
    *(error for module in COMMAND_MODULES for error in module.ERRORS),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="acd-warehouse",
        description="ACD Warehouse: product events, ad spend and Stripe revenue in one warehouse. "
        "The warehouse is ACD_WAREHOUSE_URL (default duckdb:///warehouse/acd.duckdb).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
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
