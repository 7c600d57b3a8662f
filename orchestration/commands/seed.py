"""`seed`: write the deterministic sample world (docs/REFERENCE.md, Commands) into the warehouse and to disk.

The arguments only; what the command does is `orchestration.demo.commands.run_seed`.
"""

from __future__ import annotations

import argparse
from datetime import date

from acd_analytics.warehouse_url import WarehouseTarget

from orchestration.commands import Subcommands
from orchestration.demo.commands import DEFAULT_OUT_DIR, SeedError, run_seed, world_config

ERRORS: tuple[type[Exception], ...] = (SeedError,)


def _end_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from exc


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def cmd_seed(args: argparse.Namespace, target: WarehouseTarget) -> None:
    config = world_config(
        users=args.users, days=args.days, seed=args.seed, end_date=args.end_date, out=args.out
    )
    run_seed(target, config)


def register(commands: Subcommands) -> None:
    seed = commands.add_parser(
        "seed",
        help="write the deterministic sample world: warehouse rows, events and API payloads",
    )
    seed.add_argument(
        "--users", type=_positive, default=2000, help="people to simulate (default 2000)"
    )
    seed.add_argument("--days", type=_positive, default=30, help="days to simulate (default 30)")
    seed.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    seed.add_argument(
        "--end-date",
        type=_end_date,
        default=None,
        help="last simulated day, YYYY-MM-DD (default: yesterday, UTC)",
    )
    seed.add_argument(
        "--out",
        default=None,
        help=f"where the API payloads go (default: {DEFAULT_OUT_DIR}/ under the current directory)",
    )
    seed.set_defaults(handler=cmd_seed)
