"""Every dbt model, seed and test as Dagster assets and checks; sources link to raw assets.

dagster-dbt names a source's asset `[source name, table name]` (e.g. `raw_meta/ads_insights`),
which is the key the ingest assets use, so lineage runs from the API to the marts. Every dbt
test of the manifest is an asset check of the model it tests; the key marts also get the
Great Expectations suites of `checks.py`.

One `@dbt_assets` covers the project: its one incremental model (`fct_events`) is driven by its
own late-arrival window (`events_late_arrival_hours`), not by a partition, so there is no
partition window to pass as `--vars` (see docs/ORCHESTRATION.md for when to split).
"""

import os
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.defs.dbt.checks import mart_checks
from orchestration.defs.dbt.project import DBT_EXECUTABLE, DBT_PROJECT, ensure_manifest
from orchestration.defs.resources import WarehouseResource
from warehouse_db.dbt_env import dbt_env


class LayerGroups(DagsterDbtTranslator):
    """Groups dbt assets by layer (staging, intermediate, marts; seeds with staging), so the
    lineage view reads sources → staging → intermediate → marts."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "staging"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else super().get_group_name(dbt_resource_props)


@dbt_assets(manifest=ensure_manifest(), project=DBT_PROJECT, dagster_dbt_translator=LayerGroups())
def dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    # profiles.yml reads the target from ACD_DBT_*; the dbt subprocess inherits this process's env.
    os.environ.update(dbt_env(warehouse.target))
    yield from dbt.cli(["build"], context=context).stream()


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=DBT_EXECUTABLE)


dbt_build_job = dg.define_asset_job(
    "dbt_build", selection=dg.AssetSelection.assets(dbt_models), description="dbt build."
)

dbt_build_hourly = dg.ScheduleDefinition(
    name="dbt_build_hourly",
    job=dbt_build_job,
    cron_schedule="15 * * * *",
    execution_timezone="UTC",
    description="Hourly dbt build, so the events-driven marts lag the products by at most an hour.",
)

MODELS = {key.path[-1] for key in dbt_models.keys}

defs = dg.Definitions(
    assets=[dbt_models],
    asset_checks=mart_checks(MODELS),
    jobs=[dbt_build_job],
    schedules=[dbt_build_hourly],
)
