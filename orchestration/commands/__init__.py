"""Subcommands of `acd-warehouse`, one module per area.

Each module has `register(commands)`, which adds its subparsers with a `handler(args, target)`
default, and `ERRORS`, the exception types whose message is already the one line a user
needs. `orchestration.cli` lists the modules.
"""

from __future__ import annotations

import argparse
from typing import Protocol

from acd_analytics.warehouse_url import WarehouseTarget

Subcommands = argparse._SubParsersAction  # argparse's type for `add_subparsers()`


class Handler(Protocol):
    def __call__(self, args: argparse.Namespace, target: WarehouseTarget) -> None: ...
