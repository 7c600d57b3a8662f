"""Meta Marketing API endpoints, fields and defaults (docs/API_CONTRACT.md)."""

from __future__ import annotations

from dataclasses import dataclass

from ingest._common.secrets import Secret

DEFAULT_BASE_URL = "https://graph.facebook.com/v21.0"

INSIGHTS_PATH = "{account}/insights"
ADS_PATH = "{account}/ads"

# What docs/METRICS.md, Ads needs, at level=ad with time_increment=1.
INSIGHTS_FIELDS = (
    "account_id",
    "account_name",
    "account_currency",
    "campaign_id",
    "campaign_name",
    "adset_id",
    "adset_name",
    "ad_id",
    "ad_name",
    "date_start",
    "date_stop",
    "impressions",
    "clicks",
    "spend",
    "reach",
    "frequency",
    "actions",
    "action_values",
    "video_play_actions",
)
INSIGHTS_NUMBERS = ("impressions", "clicks", "spend", "reach", "frequency")
INSIGHTS_LISTS = ("actions", "action_values", "video_play_actions")
AD_FIELDS = (
    "id,name,account_id,campaign_id,adset_id,status,configured_status,effective_status,"
    "creative{id},created_time,updated_time"
)
# Deleted and archived ads (and their insights) come back only when asked for explicitly.
EFFECTIVE_STATUSES = (
    "ACTIVE",
    "PAUSED",
    "DELETED",
    "ARCHIVED",
    "PENDING_REVIEW",
    "DISAPPROVED",
    "PREAPPROVED",
    "PENDING_BILLING_INFO",
    "CAMPAIGN_PAUSED",
    "ADSET_PAUSED",
    "IN_PROCESS",
    "WITH_ISSUES",
)

# Throttling error codes (HTTP 400, sometimes 403/500): application, user/ad account, page,
# custom, and the business-use-case buckets 80000-80014.
THROTTLE_CODES = frozenset({4, 17, 32, 613, *range(80000, 80015)})
USAGE_HEADERS = ("x-app-usage", "x-ad-account-usage", "x-business-use-case-usage")

# Streams and their merge keys (the raw tables' primary keys, `warehouse_db.raw_schema`).
INSIGHTS_STREAM = "ads_insights"  # merge key (ad_id, date_start); cursor: last day loaded
ADS_STREAM = "ads"  # merge key (ad_id, updated_time, effective_status); full list each run


@dataclass(frozen=True)
class MetaConfig:
    """Everything the Meta connector needs; built by `orchestration.settings`."""

    access_token: Secret
    ad_account_ids: tuple[str, ...]
    base_url: str = DEFAULT_BASE_URL
    lookback_days: int = 28  # re-pulled and replaced every run (Meta restates 28 days)
    initial_days: int = 90  # history pulled by a first run without --start
    window_days: int = 7  # days per insights request (and per load transaction)
    page_limit: int = 500
    slowdown_pct: float = 75.0  # above this usage, pace calls
    pause_pct: float = 95.0  # at or above this usage, pause before the next call
    pause_seconds: float = 300.0  # pause when the API gives no estimate
    max_pace_seconds: float = 30.0
