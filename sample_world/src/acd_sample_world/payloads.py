"""Meta and TikTok payloads of the sample world, in the platforms' wire formats.

Meta insights rows follow `fixtures/meta/insights_page*.json`: every number a string
(6-decimal ratios, trailing zeros dropped), no `cpc` without clicks, no action arrays
without actions, no row for a day without delivery, and purchases reported under the three
overlapping action types with equal values. TikTok report rows follow
`fixtures/tiktok/report_integrated_page*.json` (`stat_time_day` as "YYYY-MM-DD 00:00:00",
metric strings with fixed decimals, zero rows for idle ads that exist).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from acd_sample_world.ads import Ad, AdWorld
from acd_sample_world.config import WorldConfig
from acd_sample_world.ids import decimal_string, fixed_string
from acd_sample_world.organic import Video
from acd_sample_world.store import WorldFiles, write_jsonl

META_PURCHASE_TYPES = ("omni_purchase", "purchase", "offsite_conversion.fb_pixel_purchase")


def meta_time(moment: datetime) -> str:
    """Meta's object timestamp format, offset without a colon: 2024-05-02T16:03:10+0000."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def tiktok_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _stat(action_type: str, value: str, window: str = "7d_click") -> dict[str, str]:
    return {"action_type": action_type, "value": value, window: value}


def meta_insights_row(
    ad: Ad,
    day: str,
    impressions: int,
    clicks: int,
    spend: float,
    reach: int,
    video_views: int,
    purchases: int,
    purchase_value: float,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "account_id": ad.account_id,
        "account_name": ad.account_name,
        "account_currency": "USD",
        "campaign_id": ad.campaign_id,
        "campaign_name": ad.campaign_name,
        "adset_id": ad.adset_id,
        "adset_name": ad.adset_name,
        "ad_id": ad.ad_id,
        "ad_name": ad.ad_name,
        "date_start": day,
        "date_stop": day,
        "impressions": str(impressions),
        "reach": str(reach),
        "frequency": decimal_string(impressions / reach, 6),
        "clicks": str(clicks),
        "spend": decimal_string(spend, 2),
        "ctr": decimal_string(100 * clicks / impressions, 6),
    }
    if clicks:
        row["cpc"] = decimal_string(spend / clicks, 6)
    row["cpm"] = decimal_string(1000 * spend / impressions, 6)
    actions: list[dict[str, str]] = []
    if clicks:
        link_clicks = max(1, round(clicks * 0.92))
        engagement = clicks + math.ceil(clicks * 0.1)
        actions += [
            _stat("link_click", str(link_clicks)),
            _stat("page_engagement", str(engagement)),
            _stat("post_engagement", str(engagement)),
        ]
    if purchases:
        actions += [_stat(kind, str(purchases)) for kind in META_PURCHASE_TYPES]
    if video_views:
        actions.append(_stat("video_view", str(video_views), "1d_view"))
    if actions:
        row["actions"] = actions
        row["cost_per_action_type"] = [
            {
                key: (decimal_string(spend / int(value), 6) if key != "action_type" else value)
                for key, value in action.items()
            }
            for action in actions
        ]
    if purchases:
        value = decimal_string(purchase_value, 2)
        row["action_values"] = [_stat(kind, value) for kind in META_PURCHASE_TYPES]
    if video_views:
        row["video_play_actions"] = [_stat("video_view", str(video_views), "1d_view")]
    return row


def tiktok_report_row(
    ad: Ad,
    day: str,
    impressions: int,
    clicks: int,
    spend: float,
    reach: int,
    video_views: int,
    conversions: int,
) -> dict[str, Any]:
    def ratio(numerator: float, denominator: float, places: int, scale: float = 1.0) -> str:
        return fixed_string(scale * numerator / denominator if denominator else 0, places)

    return {
        "dimensions": {"ad_id": ad.ad_id, "stat_time_day": f"{day} 00:00:00"},
        "metrics": {
            "campaign_id": ad.campaign_id,
            "campaign_name": ad.campaign_name,
            "adgroup_id": ad.adset_id,
            "adgroup_name": ad.adset_name,
            "ad_name": ad.ad_name,
            "currency": "USD",
            "spend": fixed_string(spend, 3),
            "impressions": str(impressions),
            "clicks": str(clicks),
            "ctr": ratio(clicks, impressions, 2, 100),
            "cpc": ratio(spend, clicks, 3),
            "cpm": ratio(spend, impressions, 3, 1000),
            "reach": str(reach),
            "frequency": ratio(impressions, reach, 2),
            "cost_per_1000_reached": ratio(spend, reach, 3, 1000),
            "conversion": str(conversions),
            "cost_per_conversion": ratio(spend, conversions, 3),
            "conversion_rate": ratio(conversions, clicks, 2, 100),
            "total_complete_payment_rate": ratio(conversions, clicks, 2, 100),
            "video_play_actions": str(video_views),
            "video_watched_2s": str(round(video_views * 0.12)),
            "video_watched_6s": str(round(video_views * 0.03)),
            "video_views_p25": str(round(video_views * 0.09)),
            "video_views_p50": str(round(video_views * 0.04)),
            "video_views_p75": str(round(video_views * 0.022)),
            "video_views_p100": str(round(video_views * 0.015)),
            "average_video_play": ratio(video_views * 1.45, max(video_views, 1), 2)
            if video_views
            else "0.00",
            "average_video_play_per_user": ratio(video_views * 1.55, max(video_views, 1), 2)
            if video_views
            else "0.00",
            "likes": str(round(clicks * 0.6)),
            "comments": str(round(clicks * 0.02)),
            "shares": str(round(clicks * 0.01)),
            "follows": str(round(clicks * 0.03)),
            "profile_visits": str(round(clicks * 0.08)),
        },
    }


def write_ad_payloads(
    config: WorldConfig,
    files: WorldFiles,
    world: AdWorld,
    conversions: dict[tuple[str, str, int], list[float]],
) -> dict[str, int]:
    """Write the ads and per-day report files of both platforms; returns row counts."""
    counts = {"meta_insights_rows": 0, "tiktok_report_rows": 0}
    meta_ads = [ad for ad in world.ads if ad.platform == "meta"]
    tiktok_ads = [ad for ad in world.ads if ad.platform == "tiktok"]
    for ad_list in (meta_ads, tiktok_ads):
        ad_list.sort(key=lambda ad: ad.ad_id)
    for day_index in range(config.days):
        day = config.day(day_index).isoformat()
        day_end = config.start + timedelta(days=day_index + 1)
        meta_rows = []
        for ad in meta_ads:
            row = world.delivery.get((ad.ad_id, day_index))
            if row is None:
                continue
            purchases, value = conversions.get(("meta", ad.ad_id, day_index), (0, 0.0))
            meta_rows.append(
                meta_insights_row(
                    ad,
                    day,
                    row.impressions,
                    row.clicks,
                    row.spend,
                    row.reach,
                    row.video_views,
                    int(purchases),
                    value,
                )
            )
        write_jsonl(files.meta_insights(world.meta_account_id, config.day(day_index)), meta_rows)
        counts["meta_insights_rows"] += len(meta_rows)
        tiktok_rows = []
        for ad in tiktok_ads:
            if ad.created_at >= day_end:
                continue
            row = world.delivery.get((ad.ad_id, day_index))
            purchases, _ = conversions.get(("tiktok", ad.ad_id, day_index), (0, 0.0))
            if row is None:
                tiktok_rows.append(tiktok_report_row(ad, day, 0, 0, 0.0, 0, 0, 0))
            else:
                tiktok_rows.append(
                    tiktok_report_row(
                        ad,
                        day,
                        row.impressions,
                        row.clicks,
                        row.spend,
                        row.reach,
                        row.video_views,
                        int(purchases),
                    )
                )
        write_jsonl(
            files.tiktok_report(world.tiktok_advertiser_id, config.day(day_index)), tiktok_rows
        )
        counts["tiktok_report_rows"] += len(tiktok_rows)
    write_jsonl(
        files.meta_ads(world.meta_account_id),
        [
            {
                "ad": {
                    "id": ad.ad_id,
                    "name": ad.ad_name,
                    "account_id": ad.account_id,
                    "campaign_id": ad.campaign_id,
                    "adset_id": ad.adset_id,
                    "creative": {"id": ad.creative_id},
                    "created_time": meta_time(ad.created_at),
                },
                "history": [[int(s.at.timestamp()), s.status, s.effective] for s in ad.history],
            }
            for ad in meta_ads
        ],
    )
    write_jsonl(
        files.tiktok_ads(world.tiktok_advertiser_id),
        [
            {
                "ad": {
                    "ad_id": ad.ad_id,
                    "ad_name": ad.ad_name,
                    "advertiser_id": ad.account_id,
                    "campaign_id": ad.campaign_id,
                    "adgroup_id": ad.adset_id,
                    "create_time": tiktok_time(ad.created_at),
                },
                "history": [[int(s.at.timestamp()), s.status, s.effective] for s in ad.history],
            }
            for ad in tiktok_ads
        ],
    )
    return counts


def write_videos(files: WorldFiles, videos: list[Video]) -> None:
    write_jsonl(
        files.tiktok_videos,
        [{"video": video.video, "daily": [list(day) for day in video.daily]} for video in videos],
    )
