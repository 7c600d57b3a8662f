"""`build [--select …]`: `dbt build` of the project against ACD_WAREHOUSE_URL, and `dbt-env`."""

from __future__ import annotations

import argparse
import os
import shlex
from collections.abc import Sequence

from acd_analytics.warehouse_url import WarehouseTarget

from orchestration.commands import Subcommands
from warehouse_db.dbt_env import DBT_PROJECT_DIR, DbtTargetError, dbt_env


class DbtBuildFailed(RuntimeError):
    """dbt build finished with errors or failing tests."""


ERRORS: tuple[type[Exception], ...] = (DbtTargetError, DbtBuildFailed)


def run_dbt(target: WarehouseTarget, args: Sequence[str]) -> None:
    """Run one dbt command in-process against `target`; raise DbtBuildFailed on failure."""
    from dbt.cli.main import dbtRunner

    os.environ.update(dbt_env(target))
    result = dbtRunner().invoke(
        [*args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    )
    if not result.success:
        failed = []
        for node_result in getattr(result.result, "results", None) or []:
            if str(node_result.status) in ("error", "fail"):
                failed.append(node_result.node.name)
        detail = f": {', '.join(failed[:5])}{' …' if len(failed) > 5 else ''}" if failed else ""
        raise DbtBuildFailed(f"dbt {args[0]} failed{detail} (see the dbt output above)")


def cmd_build(args: argparse.Namespace, target: WarehouseTarget) -> None:
    selection = ["--select", *args.select] if args.select else []
    run_dbt(target, ["build", *selection])


def cmd_dbt_env(args: argparse.Namespace, target: WarehouseTarget) -> None:
    for name, value in dbt_env(target).items():
        print(f"export {name}={shlex.quote(value)}")


def register(commands: Subcommands) -> None:
    build = commands.add_parser(
        "build", help="dbt build (models, seeds and tests) on the warehouse"
    )
    build.add_argument("--select", nargs="+", help="dbt node selection, e.g. marts.attribution+")
    build.set_defaults(handler=cmd_build)
    commands.add_parser(
        "dbt-env", help="print the ACD_DBT_* variables for running dbt by hand (eval them)"
    ).set_defaults(handler=cmd_dbt_env)
