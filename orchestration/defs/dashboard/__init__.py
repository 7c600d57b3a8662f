"""The dashboard report: written after each successful dbt build, previewed in the UI."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.dashboard.assets import (
    dashboard_after_dbt_build,
    dashboard_job,
    dashboard_report,
)

defs = dg.Definitions(
    assets=[dashboard_report], jobs=[dashboard_job], sensors=[dashboard_after_dbt_build]
)
