"""`demo`: the main job on a fresh warehouse (docs/REFERENCE.md, Commands).

The arguments only; what the command does (seed the sample world, run every asset and check
through Dagster with the sample client resources, print what the marts say and the report's
path) is `orchestration.demo.commands.run_demo`.
"""

from __future__ import annotations

import argparse

from acd_analytics.warehouse_url import WarehouseTarget

from api.dashboard import DEFAULT_REPORT_PATH
from orchestration.commands import Subcommands
from orchestration.demo.commands import DEFAULT_OUT_DIR, DemoFailed, run_demo

ERRORS: tuple[type[Exception], ...] = (DemoFailed,)


def cmd_demo(args: argparse.Namespace, target: WarehouseTarget) -> None:
    run_demo(target, users=args.users, days=args.days, out=args.out, report=args.report)


def register(commands: Subcommands) -> None:
    demo = commands.add_parser("demo", help="the whole pipeline on a fresh sample world")
    demo.add_argument("--users", type=int, default=2000, help="people in the sample world")
    demo.add_argument("--days", type=int, default=30, help="days the sample world spans")
    demo.add_argument("--out", default=str(DEFAULT_OUT_DIR), help="where the world's payloads go")
    demo.add_argument(
        "--report",
        default=str(DEFAULT_REPORT_PATH),
        help=f"where the dashboard report goes ({DEFAULT_REPORT_PATH})",
    )
    demo.set_defaults(handler=cmd_demo)
