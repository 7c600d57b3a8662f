"""The Dagster code location: `dagster dev -m orchestration.definitions`.

Each area under `orchestration/defs/` owns its assets, checks and schedules; this module only
merges them and binds the resources.
"""

from __future__ import annotations

import dagster as dg

from orchestration.defs.dbt import assets as dbt_area
from orchestration.defs.resources import warehouse_resource

defs = dg.Definitions.merge(
    dbt_area.defs,
    dg.Definitions(resources={"warehouse": warehouse_resource(), "dbt": dbt_area.dbt_resource()}),
)
