"""TikTok Business and Display API endpoints, fields and defaults (docs/API_CONTRACT.md)."""

from __future__ import annotations

from dataclasses import dataclass

from ingest._common.secrets import Secret

DEFAULT_BASE_URL = "https://business-api.tiktok.com/open_api/v1.3"
DEFAULT_DISPLAY_BASE_URL = "https://open.tiktokapis.com/v2"

REPORT_PATH = "report/integrated/get/"
ADS_PATH = "ad/get/"
VIDEO_LIST_PATH = "video/list/"

REPORT_DIMENSIONS = ("ad_id", "stat_time_day")
REPORT_METRICS = (
    "campaign_id",
    "campaign_name",
    "adgroup_id",
    "adgroup_name",
    "ad_name",
    "currency",
    "spend",
    "impressions",
    "clicks",
    "reach",
    "video_play_actions",
    "conversion",
    "total_complete_payment_rate",
)
VIDEO_FIELDS = "id,title,create_time,duration,view_count,like_count,comment_count,share_count"

RATE_LIMIT_CODE = 40100  # "request too frequent", on HTTP 200 (or 401)
RETRYABLE_CODES = frozenset({50000, 50002, 40016, 40132, 40133})
MAX_REPORT_DAYS = 30  # a daily report covers at most 30 days per request

# Streams and merge keys (the raw tables' primary keys, `warehouse_db.raw_schema`).
REPORTS_STREAM = "ad_reports"  # (ad_id, stat_time_day); cursor: last day loaded
ADS_STREAM = "ads"  # (ad_id, modify_time, operation_status): every observed version
VIDEOS_STREAM = "video_snapshots"  # (video_id, fetched_at): one snapshot per run


@dataclass(frozen=True)
class TikTokConfig:
    """Business API (ads) settings, and optionally the Display API (organic videos)."""

    access_token: Secret
    advertiser_ids: tuple[str, ...]
    display_access_token: Secret | None = None
    base_url: str = DEFAULT_BASE_URL
    display_base_url: str = DEFAULT_DISPLAY_BASE_URL
    lookback_days: int = 7  # re-pulled and replaced every run
    initial_days: int = 90
    window_days: int = MAX_REPORT_DAYS
    page_size: int = 1000
    video_page_size: int = 20
    rate_limit_wait: float = 300.0  # after a per-minute limit TikTok asks for 5 minutes
