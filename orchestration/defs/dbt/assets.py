"""Every dbt model, seed and test as Dagster assets and checks; sources link to raw assets.

dagster-dbt names a source's asset `[source name, table name]` (e.g. `raw_meta/ads_insights`),
which is the key the ingest assets use, so lineage runs from the API to the marts. Every dbt
test of the manifest is an asset check of the model it tests; the key marts also get the
Great Expectations suites of `checks.py`.

Two `@dbt_assets` split the project (`unpartitioned_names`): the models tagged `partitioned`
(`fct_events`), with everything they read, are partitioned by the day the warehouse received
the events and get their run's partition window as `--vars`, so a backfill of some days
rebuilds exactly those days' events; every other model is unpartitioned and rebuilt (or updated
by its own change detection) on each run, after the partitioned set. The hourly schedule runs
both, over today's partition (and yesterday's just after midnight).

Each step holds the warehouse's build lock (`warehouse_db.build_lock`) for its dbt build, so
it never overlaps an `acd-warehouse build`, and checks the stored inputs of its incremental
models (`warehouse_db.build_inputs`) first. Run config `full_refresh: true` (`DbtBuildConfig`)
passes `--full-refresh` to dbt.
"""

import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.defs.dbt.checks import mart_checks
from orchestration.defs.dbt.project import DBT_PROJECT, load_manifest
from orchestration.defs.partitions import (
    dbt_window_vars,
    range_tags,
    received_day_partitions,
    received_days,
)
from orchestration.defs.resources import WarehouseResource
from warehouse_db.build_inputs import (
    check_not_stale,
    incremental_model_inputs,
    project_vars,
    record_built,
    stored_inputs,
)
from warehouse_db.build_lock import build_lock
from warehouse_db.dbt_env import DBT_EXECUTABLE, DBT_PROJECT_DIR, dbt_build_args, dbt_env

PARTITIONED_TAG = "partitioned"


PARTITIONED_SELECT = f"+tag:{PARTITIONED_TAG}"


def unpartitioned_names(manifest: Mapping[str, Any]) -> str:
    """The names of every model and seed outside the partitioned set, as a dbt selection.

    The partitioned set is the models tagged `partitioned` and their ancestors, so no model
    of the other set is upstream of it (a run builds it first, with no cycle between the two).
    Selecting these names gives the unpartitioned set, through dbt's eager indirect selection,
    each test that reads one of them, including the tests that read both sets (relationships
    into fct_events), which therefore run after both are built. Excluding the same names from
    the partitioned set drops those tests from it."""
    nodes = manifest["nodes"]
    tagged = [uid for uid, n in nodes.items() if PARTITIONED_TAG in n.get("tags", [])]
    if not tagged:
        raise ValueError(f"no dbt model is tagged {PARTITIONED_TAG!r}")
    partitioned: set[str] = set()
    pending = list(tagged)
    while pending:
        uid = pending.pop()
        if uid not in partitioned:
            partitioned.add(uid)
            pending += manifest["parent_map"].get(uid, [])
    return " ".join(
        sorted(
            n["name"]
            for uid, n in nodes.items()
            if n["resource_type"] in ("model", "seed", "snapshot") and uid not in partitioned
        )
    )


MANIFEST = load_manifest()
UNPARTITIONED = unpartitioned_names(MANIFEST)

# One dbt step at a time on the warehouse, across runs and backfills (the instance's pools
# default to one slot): the incremental models downstream of fct_events read the rows stamped
# after their own last run, which is exact only when dbt runs do not overlap.
DBT_POOL = "dbt_warehouse"

# dagster-dbt gives each dbt step a target folder of its own (`<step>-<run id>-<random>` under
# dbt_project/target/, about 14 MB) and never deletes it: the hourly schedule would add two an
# hour. The newest of each step are kept to debug a run with.
STEP_ARTIFACTS_KEPT = 10


def prune_step_artifacts(current: Path, kept: int = STEP_ARTIFACTS_KEPT) -> list[Path]:
    """Delete all but the newest `kept` target folders of the dbt step whose folder is
    `current` (the newest); returns the deleted ones. Other steps' folders and anything not
    named like a step's folder are left alone."""
    step = current.name.split("-")[0]
    folders = []
    for path in current.parent.iterdir():
        parts = path.name.split("-")
        if len(parts) != 3 or parts[0] != step or not path.is_dir():
            continue
        try:
            folders.append((path == current, path.stat().st_mtime, path))
        except FileNotFoundError:  # pruned meanwhile by another process's step
            continue
    folders.sort(reverse=True)
    deleted = [path for _current, _mtime, path in folders[kept:]]
    for path in deleted:
        shutil.rmtree(path, ignore_errors=True)
    return deleted


class LayerGroups(DagsterDbtTranslator):
    """Groups dbt assets by layer, the folder under `models/` (staging, core, intermediate,
    marts; seeds with staging), so the lineage view reads sources → staging → core →
    intermediate → marts."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "staging"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else super().get_group_name(dbt_resource_props)


class DbtBuildConfig(dg.Config):
    """Run config of the dbt steps (Launchpad: `ops: {dbt_models: {config: {full_refresh: true}}}`)."""

    full_refresh: bool = False
    """Rebuild the step's incremental models from scratch (`dbt build --full-refresh`)."""
    lock_wait_seconds: int = 900
    """How long to wait for another build on the warehouse (`acd-warehouse build`) to end."""


def _build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    config: DbtBuildConfig,
    dbt_vars: Mapping[str, str],
) -> Iterator[Any]:
    # profiles.yml reads the target from ACD_DBT_*; the dbt subprocess inherits this process's env.
    target = warehouse.target
    os.environ.update(dbt_env(target))
    current = incremental_model_inputs(MANIFEST, project_vars(DBT_PROJECT_DIR) | dict(dbt_vars))
    selected = {key.path[-1] for key in context.selected_asset_keys}
    with build_lock(target, wait_seconds=config.lock_wait_seconds):
        with warehouse.connect() as conn:
            stored = stored_inputs(conn)
        check_not_stale(
            MANIFEST,
            current,
            stored,
            full_refresh=config.full_refresh,
            models_to_build=selected,
            command="a dbt_build run with run config full_refresh: true, or acd-warehouse build"
            " --full-refresh --select",
        )
        context.log.info(
            f"dbt build{' --full-refresh' if config.full_refresh else ''} on {target.redacted()}"
        )
        invocation = dbt.cli(
            dbt_build_args(full_refresh=config.full_refresh, dbt_vars=dbt_vars),
            context=context,
            raise_on_error=False,
        )
        yield from invocation.stream()
        results = invocation.get_artifact("run_results.json")["results"]
        built = [result["unique_id"] for result in results if result["status"] == "success"]
        with warehouse.connect() as conn:
            recorded = record_built(conn, current, stored, built, full_refresh=config.full_refresh)
    if recorded:
        context.log.info(f"recorded the seeds and vars of {', '.join(recorded)}")
    prune_step_artifacts(invocation.target_path)
    if not invocation.is_successful():
        raise dg.Failure(f"dbt build failed on {target.redacted()} (see the dbt output above)")


@dbt_assets(
    manifest=MANIFEST,
    project=DBT_PROJECT,
    dagster_dbt_translator=LayerGroups(),
    select=UNPARTITIONED,
    pool=DBT_POOL,
)
def dbt_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    config: DbtBuildConfig,
) -> Iterator[Any]:
    yield from _build(context, dbt, warehouse, config, {})


@dbt_assets(
    manifest=MANIFEST,
    project=DBT_PROJECT,
    dagster_dbt_translator=LayerGroups(),
    select=PARTITIONED_SELECT,
    exclude=UNPARTITIONED,
    partitions_def=received_day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    name="dbt_partitioned_models",
    pool=DBT_POOL,
)
def dbt_partitioned_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    config: DbtBuildConfig,
) -> Iterator[Any]:
    window = dbt_window_vars(context.partition_time_window)
    yield from _build(context, dbt, warehouse, config, window)


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=DBT_EXECUTABLE)


dbt_build_job = dg.define_asset_job(
    "dbt_build",
    selection=dg.AssetSelection.assets(dbt_models, dbt_partitioned_models),
    description="dbt build: every model, the partitioned ones over the run's received days.",
)


@dg.schedule(job=dbt_build_job, cron_schedule="15 * * * *", execution_timezone="UTC")
def dbt_build_hourly(context: dg.ScheduleEvaluationContext) -> Iterator[dg.RunRequest]:
    """Hourly dbt build over today's received events (and yesterday's just after midnight),
    so the events-driven marts lag the products by at most an hour."""
    days = received_days(context.scheduled_execution_time)
    yield dg.RunRequest(tags=range_tags(days))


DBT_ASSETS = (dbt_models, dbt_partitioned_models)
MODELS = {key.path[-1] for assets in DBT_ASSETS for key in assets.keys}

defs = dg.Definitions(
    assets=list(DBT_ASSETS),
    asset_checks=mart_checks(MODELS),
    jobs=[dbt_build_job],
    schedules=[dbt_build_hourly],
)
