"""Raw tables as assets, keyed as dbt names their sources (`raw_meta/ads_insights`, …).

Report assets (Meta insights, TikTok reports) are daily-partitioned: a run pulls exactly its
partition days (see `orchestration.defs.partitions`). Status, snapshot and Stripe assets are
not partitioned: each run takes the platform's current state. Every API asset sits in its
platform's concurrency pool, so backfills and schedules never call one API from two steps at
once, and retries with backoff when a run fails after the connector's own HTTP retries.
"""

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import dagster as dg

from ingest._common.results import StreamResult
from orchestration.defs.ingest.resources import (
    MetaResource,
    StripeResource,
    TikTokDisplayResource,
    TikTokResource,
)
from orchestration.defs.partitions import daily_partitions, run_days
from orchestration.defs.resources import WarehouseResource
from warehouse_db.raw_load import RawWriter
from warehouse_db.raw_schema import RAW_TABLES

META_POOL = "meta_api"
TIKTOK_POOL = "tiktok_api"
TIKTOK_DISPLAY_POOL = "tiktok_display_api"
STRIPE_POOL = "stripe_api"

# The connectors retry HTTP errors and throttling themselves; this catches what outlasts them
# (an outage, a circuit breaker open), a few minutes later.
API_RETRY = dg.RetryPolicy(
    max_retries=3, delay=120, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
# A backfill is cut into runs of at most four weeks of reports (one Meta restatement window).
REPORT_BACKFILL = dg.BackfillPolicy.multi_run(max_partitions_per_run=28)


def report_asset(**kwargs: Any) -> Callable[[Callable[..., Any]], dg.AssetsDefinition]:
    """`dg.asset` for a daily report: partitioned by day, backfilled in `REPORT_BACKFILL` runs.

    `backfill_policy` is a beta parameter of `asset`: its warning is silenced for these
    decorations only (no filter outlives them)."""

    def decorate(fn: Callable[..., Any]) -> dg.AssetsDefinition:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dg.BetaWarning)
            return dg.asset(
                partitions_def=daily_partitions, backfill_policy=REPORT_BACKFILL, **kwargs
            )(fn)

    return decorate


def raw_key(schema: str, table: str) -> dg.AssetKey:
    return dg.AssetKey([schema, table])


def _metadata(results: Sequence[StreamResult]) -> dict[str, Any]:
    return {
        "rows_pulled": sum(r.rows for r in results),
        "rows_written": sum(r.written for r in results),
        "pages": sum(r.pages for r in results),
        "accounts": ", ".join(sorted({r.account for r in results})) or "none",
    }


def _pull(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    pull: Callable[[RawWriter], list[StreamResult]],
) -> dg.MaterializeResult:
    with warehouse.connect() as conn:
        results = pull(RawWriter(conn, warehouse.target.backend))
    for result in results:
        context.log.info(str(result))
    return dg.MaterializeResult(metadata=_metadata(results))


# Meta ---------------------------------------------------------------------------------------


@report_asset(
    key=raw_key("raw_meta", "ads_insights"),
    group_name="meta",
    kinds={"python"},
    pool=META_POOL,
    retry_policy=API_RETRY,
    description="Meta daily ad insights (one row per ad per day), pulled for exactly the "
    "partition days; the daily schedule re-pulls the last 28 (Meta restates them).",
)
def meta_ads_insights(
    context: dg.AssetExecutionContext, meta: MetaResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    days = run_days(context.partition_time_window)
    context.log.info(f"pulling Meta insights for {days}")
    return _pull(
        context,
        warehouse,
        lambda writer: meta.ingest_insights(
            writer, start=days.since, end=days.until, progress=context.log.info
        ),
    )


@dg.asset(
    key=raw_key("raw_meta", "ads"),
    group_name="meta",
    kinds={"python"},
    pool=META_POOL,
    retry_policy=API_RETRY,
    description="Every observed version (status, edit) of every Meta ad, deleted included.",
)
def meta_ads(
    context: dg.AssetExecutionContext, meta: MetaResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    return _pull(
        context, warehouse, lambda writer: meta.ingest_ads(writer, progress=context.log.info)
    )


# TikTok -------------------------------------------------------------------------------------


@report_asset(
    key=raw_key("raw_tiktok", "ad_reports"),
    group_name="tiktok",
    kinds={"python"},
    pool=TIKTOK_POOL,
    retry_policy=API_RETRY,
    description="TikTok daily ad reports (one row per ad per day), pulled for exactly the "
    "partition days; the daily schedule re-pulls the last 7 (TikTok restates them).",
)
def tiktok_ad_reports(
    context: dg.AssetExecutionContext, tiktok: TikTokResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    days = run_days(context.partition_time_window)
    context.log.info(f"pulling TikTok reports for {days}")
    return _pull(
        context,
        warehouse,
        lambda writer: tiktok.ingest_reports(
            writer, start=days.since, end=days.until, progress=context.log.info
        ),
    )


@dg.asset(
    key=raw_key("raw_tiktok", "ads"),
    group_name="tiktok",
    kinds={"python"},
    pool=TIKTOK_POOL,
    retry_policy=API_RETRY,
    description="Every observed version (operation status, edit) of every TikTok ad.",
)
def tiktok_ads(
    context: dg.AssetExecutionContext, tiktok: TikTokResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    return _pull(
        context, warehouse, lambda writer: tiktok.ingest_ads(writer, progress=context.log.info)
    )


@dg.asset(
    key=raw_key("raw_tiktok", "video_snapshots"),
    group_name="tiktok",
    kinds={"python"},
    pool=TIKTOK_DISPLAY_POOL,
    retry_policy=API_RETRY,
    description="One snapshot of every organic video's cumulative counters per run.",
)
def tiktok_video_snapshots(
    context: dg.AssetExecutionContext,
    tiktok_display: TikTokDisplayResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    return _pull(
        context,
        warehouse,
        lambda writer: tiktok_display.ingest_videos(writer, progress=context.log.info),
    )


# Stripe -------------------------------------------------------------------------------------

STRIPE_TABLES = tuple(RAW_TABLES["raw_stripe"])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(raw_key("raw_stripe", table), group_name="stripe", kinds={"python"})
        for table in STRIPE_TABLES
    ],
    name="stripe_objects",
    pool=STRIPE_POOL,
    retry_policy=API_RETRY,
    description="Stripe billing objects: a full sync on the first run, then every change "
    "through /v1/events (one sync writes all ten raw tables).",
)
def stripe_objects(
    context: dg.AssetExecutionContext, stripe: StripeResource, warehouse: WarehouseResource
) -> Any:
    with warehouse.connect() as conn:
        results = stripe.ingest(
            RawWriter(conn, warehouse.target.backend), progress=context.log.info
        )
    for result in results:
        context.log.info(str(result))
    for table in STRIPE_TABLES:
        mine = [r for r in results if r.stream == table]
        metadata = _metadata(mine) if mine else {"loaded_with": "their parent objects"}
        yield dg.MaterializeResult(asset_key=raw_key("raw_stripe", table), metadata=metadata)


ASSETS = [
    meta_ads_insights,
    meta_ads,
    tiktok_ad_reports,
    tiktok_ads,
    tiktok_video_snapshots,
    stripe_objects,
]
