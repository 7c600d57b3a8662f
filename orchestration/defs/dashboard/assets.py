"""The dashboard of the marts as an asset: one self-contained HTML file (`api.dashboard`).

It reads the marts its sections chart, so it depends on their dbt assets and runs after them:
in production a sensor requests it when a `dbt_build` run succeeds; the demo pipeline runs it
after its dbt build. Each materialization carries the headline chart (products by day) as a
PNG in its metadata, which the Dagster UI shows as a picture.
"""

import base64
from pathlib import Path

import dagster as dg

from api.dashboard import DEFAULT_REPORT_PATH, write_report
from api.dashboard.queries import SECTIONS
from orchestration.defs.dbt.assets import dbt_build_job
from orchestration.defs.resources import WarehouseResource

REPORT_KEY = dg.AssetKey(["dashboard", "report"])
MART_KEYS = sorted(
    {dg.AssetKey(["marts", mart]) for spec in SECTIONS for mart in spec.marts},
    key=lambda key: key.to_user_string(),
)
# The preview travels in the run's event log on every materialization: keep it small.
PREVIEW_SCALE = 0.6


class DashboardReportResource(dg.ConfigurableResource):
    """Where the dashboard file goes (relative paths from the code location's directory)."""

    path: str = str(DEFAULT_REPORT_PATH)


def preview_markdown(png: bytes | None) -> str:
    if png is None:
        return "No preview: the headline section (`marts.rpt_product_daily`) has no data yet."
    encoded = base64.b64encode(png).decode("ascii")
    return f"![Products by day](data:image/png;base64,{encoded})"


@dg.asset(
    key=REPORT_KEY,
    deps=MART_KEYS,
    group_name="dashboard",
    kinds={"html"},
    description="The dashboard of the marts as one self-contained HTML file (inline SVG "
    "charts, no script, opens offline): products by day, funnels, attribution, creatives, "
    "PCT hooks, MRR, TikTok organic, entitlement reconciliation.",
)
def dashboard_report(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    dashboard: DashboardReportResource,
) -> dg.MaterializeResult:
    report = write_report(warehouse.target, Path(dashboard.path), preview_scale=PREVIEW_SCALE)
    context.log.info(f"dashboard written to {report.path} in {report.seconds:.1f} s")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(report.path.resolve())),
            "sections_with_data": f"{report.sections_with_data} of {len(report.views)}",
            "seconds": round(report.seconds, 2),
            "preview": dg.MetadataValue.md(preview_markdown(report.headline_png)),
        }
    )


dashboard_job = dg.define_asset_job(
    "dashboard",
    selection=dg.AssetSelection.assets(REPORT_KEY),
    description="Write the dashboard report from the marts.",
)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[dbt_build_job],
    request_job=dashboard_job,
    description="Rewrite the dashboard after each successful dbt build.",
)
def dashboard_after_dbt_build(context: dg.RunStatusSensorContext) -> dg.RunRequest:
    return dg.RunRequest(run_key=context.dagster_run.run_id)
