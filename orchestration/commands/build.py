"""`build [--full-refresh] [--select …]`: `dbt build` of the project against ACD_WAREHOUSE_URL,
one build at a time, refusing to update incremental models whose seeds or vars changed; and
`dbt-env`."""

from __future__ import annotations

import argparse
import json
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from acd_analytics.warehouse_url import WarehouseTarget

from orchestration.commands import Subcommands
from warehouse_db.build_inputs import (
    StaleIncrementalModels,
    check_not_stale,
    incremental_model_inputs,
    parse_vars,
    project_vars,
    record_built,
    stored_inputs,
)
from warehouse_db.build_lock import BuildLocked, build_lock
from warehouse_db.connection import connect
from warehouse_db.dbt_env import (
    DBT_PROJECT_DIR,
    DbtTargetError,
    dbt_build_args,
    dbt_env,
    run_dbt_in_process,
)

# dbt's artifacts of a build (run_results.json, the compiled SQL) go here rather than to
# target/: the code location and the read API read target/manifest.json, and dbt rewrites the
# manifest of its target path in place, so a reader during a build could get half a file.
BUILD_ARTIFACTS_DIR = DBT_PROJECT_DIR / "target" / "build"


class DbtBuildFailed(RuntimeError):
    """dbt build finished with errors or failing tests."""


ERRORS: tuple[type[Exception], ...] = (
    DbtTargetError,
    DbtBuildFailed,
    BuildLocked,
    StaleIncrementalModels,
)


def _succeeded(result: Any) -> list[str]:
    return [
        node_result.node.unique_id
        for node_result in getattr(result.result, "results", None) or []
        if str(node_result.status) == "success"
    ]


def _raise_unless_success(result: Any, command: str) -> None:
    if result.success:
        return
    failed = [
        node_result.node.name
        for node_result in getattr(result.result, "results", None) or []
        if str(node_result.status) in ("error", "fail")
    ]
    detail = f": {', '.join(failed[:5])}{' …' if len(failed) > 5 else ''}" if failed else ""
    raise DbtBuildFailed(f"dbt {command} failed{detail} (see the dbt output above)")


def build(
    target: WarehouseTarget,
    select: Sequence[str] | None = None,
    *,
    full_refresh: bool = False,
    dbt_vars: Mapping[str, Any] | None = None,
    wait_seconds: float = 0.0,
) -> list[str]:
    """`dbt build` under the build lock, after the stale-input check; returns the incremental
    models whose inputs it recorded. Raises BuildLocked, StaleIncrementalModels or
    DbtBuildFailed."""
    from orchestration.defs.dbt.project import ensure_manifest

    manifest = json.loads(ensure_manifest().read_text())
    current = incremental_model_inputs(
        manifest, project_vars(DBT_PROJECT_DIR) | dict(dbt_vars or {})
    )
    with build_lock(target, wait_seconds=wait_seconds):
        with connect(target) as conn:
            stored = stored_inputs(conn)
        check_not_stale(manifest, current, stored, full_refresh=full_refresh)
        args = dbt_build_args(select, full_refresh=full_refresh, dbt_vars=dbt_vars)
        result = run_dbt_in_process(
            target, args, extra_env={"DBT_TARGET_PATH": str(BUILD_ARTIFACTS_DIR)}
        )
        with connect(target) as conn:
            recorded = record_built(
                conn, current, stored, _succeeded(result), full_refresh=full_refresh
            )
    _raise_unless_success(result, "build")
    return recorded


def cmd_build(args: argparse.Namespace, target: WarehouseTarget) -> None:
    build(
        target,
        args.select,
        full_refresh=args.full_refresh,
        dbt_vars=args.vars,
        wait_seconds=args.wait,
    )


def _vars(text: str) -> dict[str, Any]:
    try:
        return parse_vars(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def cmd_dbt_env(args: argparse.Namespace, target: WarehouseTarget) -> None:
    for name, value in dbt_env(target).items():
        print(f"export {name}={shlex.quote(value)}")


def register(commands: Subcommands) -> None:
    parser = commands.add_parser(
        "build", help="dbt build (models, seeds and tests) on the warehouse"
    )
    parser.add_argument("--select", nargs="+", help="dbt node selection, e.g. marts.attribution+")
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild the selected incremental models from scratch (docs/RUNBOOK.md, Full refreshes)",
    )
    parser.add_argument(
        "--vars",
        type=_vars,
        help="dbt vars as YAML or JSON, e.g. '{attribution_lookback_days: 14}'",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for another build on the warehouse to finish (default: fail at once)",
    )
    parser.set_defaults(handler=cmd_build)
    commands.add_parser(
        "dbt-env", help="print the ACD_DBT_* variables for running dbt by hand (eval them)"
    ).set_defaults(handler=cmd_dbt_env)
