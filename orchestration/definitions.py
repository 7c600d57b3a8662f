"""The Dagster code location: `dagster dev -m orchestration.definitions`.

Each area under `orchestration/defs/` owns its assets, checks and schedules; this module only
merges them and binds the production resources (settings from the environment, secrets as
`EnvVar`). `orchestration.demo.pipeline` binds the sample ones instead.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from orchestration.defs import dashboard as dashboard_area
from orchestration.defs import ingest as ingest_area
from orchestration.defs import shared
from orchestration.defs.dashboard.assets import DashboardReportResource
from orchestration.defs.dbt import assets as dbt_area
from orchestration.defs.ingest.resources import live_client_resources
from orchestration.defs.resources import warehouse_resource

AREAS = (shared.defs, ingest_area.defs, dbt_area.defs, dashboard_area.defs)


def production_resources() -> dict[str, Any]:
    return {
        "warehouse": warehouse_resource(),
        "dbt": dbt_area.dbt_resource(),
        "dashboard": DashboardReportResource(),
        **live_client_resources(),
    }


defs = dg.Definitions.merge(*AREAS, dg.Definitions(resources=production_resources()))
