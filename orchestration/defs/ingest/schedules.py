"""When each source is pulled.

Meta and TikTok report on the ad account's local day; by 11:00 UTC that day has closed in every
timezone from UTC-10 eastwards, so the daily runs start then and re-pull the restatement window
as a range of partitions (Meta 28 days, TikTok 7) in one run, together with the ad statuses.
Organic video snapshots and Stripe run several times a day: their numbers move continuously.
"""

from collections.abc import Iterator

import dagster as dg

from ingest.meta.settings import MetaConfig
from ingest.tiktok.settings import TikTokConfig
from orchestration.defs.ingest.assets import (
    STRIPE_TABLES,
    meta_ads,
    meta_ads_insights,
    raw_key,
    tiktok_ad_reports,
    tiktok_ads,
    tiktok_video_snapshots,
)
from orchestration.defs.partitions import range_tags, restatement_days

META_RESTATEMENT_DAYS = MetaConfig.lookback_days  # 28
TIKTOK_RESTATEMENT_DAYS = TikTokConfig.lookback_days  # 7

meta_daily_job = dg.define_asset_job(
    "meta_daily",
    selection=dg.AssetSelection.assets(meta_ads_insights, meta_ads),
    description="Meta insights of the restatement window, and every ad's status.",
)
tiktok_daily_job = dg.define_asset_job(
    "tiktok_daily",
    selection=dg.AssetSelection.assets(tiktok_ad_reports, tiktok_ads),
    description="TikTok reports of the restatement window, and every ad's status.",
)
tiktok_videos_job = dg.define_asset_job(
    "tiktok_videos", selection=dg.AssetSelection.assets(tiktok_video_snapshots)
)
stripe_job = dg.define_asset_job(
    "stripe_sync",
    selection=dg.AssetSelection.assets(*(raw_key("raw_stripe", t) for t in STRIPE_TABLES)),
)


def restatement_run(
    context: dg.ScheduleEvaluationContext, lookback_days: int
) -> Iterator[dg.RunRequest]:
    days = restatement_days(context.scheduled_execution_time, lookback_days)
    yield dg.RunRequest(run_key=f"{days.since}..{days.until}", tags=range_tags(days))


@dg.schedule(job=meta_daily_job, cron_schedule="0 11 * * *", execution_timezone="UTC")
def meta_daily_schedule(context: dg.ScheduleEvaluationContext) -> Iterator[dg.RunRequest]:
    """Daily at 11:00 UTC: the last 28 complete days of insights, and ad statuses."""
    yield from restatement_run(context, META_RESTATEMENT_DAYS)


@dg.schedule(job=tiktok_daily_job, cron_schedule="30 11 * * *", execution_timezone="UTC")
def tiktok_daily_schedule(context: dg.ScheduleEvaluationContext) -> Iterator[dg.RunRequest]:
    """Daily at 11:30 UTC: the last 7 complete days of reports, and ad statuses."""
    yield from restatement_run(context, TIKTOK_RESTATEMENT_DAYS)


tiktok_videos_schedule = dg.ScheduleDefinition(
    name="tiktok_videos_schedule",
    job=tiktok_videos_job,
    cron_schedule="20 */6 * * *",
    execution_timezone="UTC",
    description="Every six hours: a snapshot of every organic video's counters.",
)
stripe_schedule = dg.ScheduleDefinition(
    name="stripe_schedule",
    job=stripe_job,
    cron_schedule="5 */3 * * *",
    execution_timezone="UTC",
    description="Every three hours: Stripe changes through /v1/events (well inside their "
    "30-day retention).",
)

SCHEDULES = [meta_daily_schedule, tiktok_daily_schedule, tiktok_videos_schedule, stripe_schedule]
JOBS = [meta_daily_job, tiktok_daily_job, tiktok_videos_job, stripe_job]
