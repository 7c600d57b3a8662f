"""Every dbt model, seed and test as Dagster assets and checks; sources link to raw assets.


dagster-dbt names a source's asset `[source name, table name]` (e.g. `raw_meta/ads_insights`),
which is the key the ingest assets use, so lineage runs from the API to the marts.
"""

import os
from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.defs.dbt.project import DBT_EXECUTABLE, DBT_PROJECT, ensure_manifest
from orchestration.defs.resources import WarehouseResource
from warehouse_db.dbt_env import dbt_env


@dbt_assets(manifest=ensure_manifest(), project=DBT_PROJECT)
def dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    # profiles.yml reads the target from ACD_DBT_*; the dbt subprocess inherits this process's env.
    os.environ.update(dbt_env(warehouse.target))
    yield from dbt.cli(["build"], context=context).stream()


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=DBT_EXECUTABLE)


dbt_build_hourly = dg.ScheduleDefinition(
    name="dbt_build_hourly",
    target=dg.AssetSelection.assets(dbt_models),
    cron_schedule="15 * * * *",
    execution_timezone="UTC",
    description="Hourly dbt build, so the events-driven marts lag the products by at most an hour.",
)

defs = dg.Definitions(assets=[dbt_models], schedules=[dbt_build_hourly])
