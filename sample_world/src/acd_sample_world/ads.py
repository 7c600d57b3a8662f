"""Paid social: PCT hooks, creative assets, Meta and TikTok campaigns, ads and their delivery.

Each ad carries one PCT hook whose true click-through rate is heavy-tailed (a few hooks are
much better), so the PCT feedback loop has winners to find. Ads change status over time
(paused losers, a paused campaign, a spell of WITH_ISSUES, an archived ad; TikTok
ENABLE/DISABLE), and deliver only while effectively active. The whole catalogue is small
(tens of ads, days x ads delivery rows) and lives in memory; people are streamed.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from acd_sample_world.config import WorldConfig
from acd_sample_world.events import WorldEvent
from acd_sample_world.ids import digits, new_uuid, sha256_of, sub_rng

ANGLES = ("pain", "outcome", "social_proof", "curiosity", "contrarian", "urgency")
TEMPLATES = ("listicle", "before_after", "testimonial", "question", "bold_claim", "story")
# A mild, real effect of each feature on CTR, so feature-level reports find something too.
AWARENESS_EFFECT = {1: 0.8, 2: 1.0, 3: 1.25, 4: 1.05, 5: 0.85}
ANGLE_EFFECT = {
    "pain": 1.1,
    "outcome": 1.0,
    "social_proof": 1.05,
    "curiosity": 1.3,
    "contrarian": 0.9,
    "urgency": 0.8,
}
HOOK_OPENERS = (
    "Stop scrolling if you",
    "Nobody tells you that",
    "I wasted a year before",
    "3 things I wish I knew about",
    "The lazy way to",
    "Why most creators never",
    "What happens when you",
    "This changed how I",
)
HOOK_TOPICS = (
    "launch a course",
    "post every day",
    "grow a waitlist",
    "write ad hooks",
    "edit short videos",
    "sell your first product",
    "batch a month of content",
    "get 10k views",
)

META_CAMPAIGNS = (
    ("portal28", "Course launch"),
    ("content-factory", "Creators"),
    ("mediaposter", "Scheduler"),
)
TIKTOK_CAMPAIGNS = (
    ("content-factory", "UGC videos"),
    ("pct", "Hook lab"),
    ("waitlistlab", "Waitlist push"),
)

# Share of people whose first visit comes from each ad platform (used to size delivery).
FIRST_TOUCH_SHARE = {"meta": 0.35, "tiktok": 0.25}
RETARGETED_SESSION_SHARE = 0.15


@dataclass
class Hook:
    hook_id: str
    text: str
    awareness_level: int
    angle: str
    template: str
    quality: float  # true CTR multiplier (heavy-tailed)
    created_at: datetime


@dataclass
class Asset:
    asset_id: str
    sha256: str
    kind: str
    product: str
    source: str
    uri: str
    bytes: int
    created_at: datetime
    tags: dict[str, Any]
    duration_s: int


@dataclass
class Status:
    at: datetime
    status: str  # Meta status/configured_status; TikTok operation_status
    effective: str  # Meta effective_status; TikTok secondary_status


@dataclass
class Ad:
    platform: str  # meta | tiktok
    account_id: str
    account_name: str
    product: str
    campaign_id: str
    campaign_name: str
    adset_id: str
    adset_name: str
    ad_id: str
    ad_name: str
    creative_id: str
    hook: Hook
    asset: Asset
    created_at: datetime
    base_ctr: float
    history: list[Status] = field(default_factory=list)

    def status_at(self, at: datetime) -> Status | None:
        current = None
        for change in self.history:
            if change.at > at:
                break
            current = change
        return current


@dataclass
class Delivery:
    """One ad's delivery on one day (before platform conversions are added)."""

    ad: Ad
    day: int
    impressions: int
    clicks: int
    spend: float
    reach: int
    video_views: int


@dataclass
class AdWorld:
    meta_account_id: str
    tiktok_advertiser_id: str
    staff_user_id: str
    staff_email: str
    hooks: list[Hook]
    assets: list[Asset]
    ads: list[Ad]
    delivery: dict[tuple[str, int], Delivery]  # (ad_id, day index)
    clickable: dict[tuple[str, int], tuple[list[Ad], list[int]]]  # (platform, day) -> ads, cum wts
    campaign_pauses: dict[str, tuple[datetime, datetime]]

    def pick_clicked_ad(self, rng: random.Random, platform: str, day: int) -> Ad | None:
        """An ad of `platform` that had clicks on `day`, weighted by its clicks."""
        choice = self.clickable.get((platform, day))
        if not choice:
            return None
        ads, cumulative = choice
        target = rng.random() * cumulative[-1]
        low, high = 0, len(cumulative) - 1
        while low < high:
            mid = (low + high) // 2
            if cumulative[mid] > target:
                high = mid
            else:
                low = mid + 1
        return ads[low]


def poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 40:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def build_ad_world(config: WorldConfig) -> AdWorld:
    rng = sub_rng(config.seed, "ads")
    staff_rng = sub_rng(config.seed, "staff")
    staff_user_id = new_uuid(staff_rng)
    meta_account_id = digits(rng, 15)
    tiktok_advertiser_id = digits(rng, 19, first="7")
    ads_per_group = min(3 + config.days // 30, 10)

    hooks: list[Hook] = []
    assets: list[Asset] = []
    ads: list[Ad] = []
    campaign_pauses: dict[str, tuple[datetime, datetime]] = {}

    def new_hook(created_at: datetime) -> Hook:
        awareness = rng.randint(1, 5)
        angle = rng.choice(ANGLES)
        quality = min(rng.lognormvariate(0.0, 0.7), 8.0) * AWARENESS_EFFECT[awareness]
        quality *= ANGLE_EFFECT[angle]
        hook = Hook(
            hook_id=new_uuid(rng),
            text=f"{rng.choice(HOOK_OPENERS)} {rng.choice(HOOK_TOPICS)}",
            awareness_level=awareness,
            angle=angle,
            template=rng.choice(TEMPLATES),
            quality=quality,
            created_at=created_at,
        )
        hooks.append(hook)
        return hook

    def new_asset(kind: str, product: str, created_at: datetime, hook: Hook) -> Asset:
        index = len(assets)
        duration = rng.randint(9, 60) if kind == "video" else 0
        size = (
            duration * rng.randint(180_000, 450_000)
            if kind == "video"
            else rng.randint(80_000, 900_000)
        )
        extension = "mp4" if kind == "video" else "jpg"
        asset_id = new_uuid(rng)
        asset = Asset(
            asset_id=asset_id,
            sha256=sha256_of(config.seed, "asset", index),
            kind=kind,
            product=product,
            source="content-factory" if kind == "video" else "pct",
            uri=f"s3://acd-assets/{product}/{asset_id}.{extension}",
            bytes=size,
            created_at=created_at,
            tags={
                "hook_id": hook.hook_id,
                "aspect_ratio": "9:16" if kind == "video" else rng.choice(("1:1", "4:5")),
                "template": hook.template,
            },
            duration_s=duration,
        )
        assets.append(asset)
        return asset

    for platform, campaigns in (("meta", META_CAMPAIGNS), ("tiktok", TIKTOK_CAMPAIGNS)):
        id_len = 17 if platform == "meta" else 16
        for campaign_index, (product, theme) in enumerate(campaigns):
            campaign_id = digits(rng, id_len, first="2" if platform == "meta" else "1")
            campaign_name = f"{product} - {theme}"
            if platform == "meta" and campaign_index == 0 and config.days >= 6:
                # One campaign is paused for a few days mid-period.
                pause_day = rng.randint(2, config.days - 4)
                begin = config.start + timedelta(days=pause_day, hours=rng.randint(8, 20))
                campaign_pauses[campaign_id] = (begin, begin + timedelta(days=rng.randint(1, 3)))
            for group_index in range(2):
                adset_id = digits(rng, id_len, first="2" if platform == "meta" else "1")
                audience = rng.choice(
                    ("Broad", "Lookalike 1%", "Interest: creators", "Retargeting")
                )
                adset_name = f"{campaign_name} - {audience} {group_index + 1}"
                for ad_index in range(ads_per_group):
                    if ad_index == 0 or rng.random() < 0.55:
                        launch_day = -rng.randint(1, 10)  # live before the period starts
                    else:
                        launch_day = rng.randint(0, max(config.days - 2, 0))
                    created_at = config.start + timedelta(
                        days=launch_day, hours=rng.randint(7, 18), minutes=rng.randint(0, 59)
                    )
                    hook_at = created_at - timedelta(hours=rng.randint(2, 48))
                    hook = (
                        new_hook(hook_at) if not hooks or rng.random() < 0.8 else rng.choice(hooks)
                    )
                    kind = "video" if platform == "tiktok" or rng.random() < 0.5 else "image"
                    reusable = [a for a in assets if a.kind == kind and a.created_at <= created_at]
                    if reusable and rng.random() < 0.25:
                        asset = rng.choice(reusable)  # one creative used by several ads
                    else:
                        asset_product = "content-factory" if kind == "video" else "pct"
                        asset = new_asset(
                            kind, asset_product, hook_at + timedelta(minutes=30), hook
                        )
                    ad_id = digits(
                        rng,
                        17 if platform == "meta" else 16,
                        first="2" if platform == "meta" else "1",
                    )
                    base = 0.012 if platform == "meta" else 0.009
                    ad = Ad(
                        platform=platform,
                        account_id=meta_account_id if platform == "meta" else tiktok_advertiser_id,
                        account_name="ACD Studio" if platform == "meta" else "ACD Studio TikTok",
                        product=product,
                        campaign_id=campaign_id,
                        campaign_name=campaign_name,
                        adset_id=adset_id,
                        adset_name=adset_name,
                        ad_id=ad_id,
                        ad_name=f"{hook.template} | {hook.text[:40]} | v{ad_index + 1}",
                        creative_id=digits(rng, 17, first="2")
                        if platform == "meta"
                        else asset.asset_id,
                        hook=hook,
                        asset=asset,
                        created_at=created_at,
                        base_ctr=min(base * hook.quality, 0.08),
                    )
                    _simulate_statuses(rng, config, ad, campaign_pauses.get(campaign_id))
                    ads.append(ad)

    delivery = _simulate_delivery(sub_rng(config.seed, "delivery"), config, ads)
    clickable: dict[tuple[str, int], tuple[list[Ad], list[int]]] = {}
    for (_, day), row in sorted(delivery.items(), key=lambda item: (item[0][1], item[0][0])):
        if row.clicks <= 0:
            continue
        entry = clickable.setdefault((row.ad.platform, day), ([], []))
        entry[0].append(row.ad)
        entry[1].append((entry[1][-1] if entry[1] else 0) + row.clicks)
    return AdWorld(
        meta_account_id=meta_account_id,
        tiktok_advertiser_id=tiktok_advertiser_id,
        staff_user_id=staff_user_id,
        staff_email="growth@acd.studio",
        hooks=hooks,
        assets=assets,
        ads=ads,
        delivery=delivery,
        clickable=clickable,
        campaign_pauses=campaign_pauses,
    )


def _simulate_statuses(
    rng: random.Random,
    config: WorldConfig,
    ad: Ad,
    campaign_pause: tuple[datetime, datetime] | None,
) -> None:
    """Fill `ad.history` with every change of (status, effective status)."""
    end = config.end
    configured: list[tuple[datetime, str]] = [(ad.created_at, "ACTIVE")]
    issues: tuple[datetime, datetime] | None = None
    if ad.hook.quality < 0.75 and rng.random() < 0.7:
        paused_at = ad.created_at + timedelta(days=rng.randint(3, 9), hours=rng.randint(0, 12))
        if paused_at < end:
            configured.append((paused_at, "PAUSED"))
            if ad.platform == "meta" and rng.random() < 0.4:
                archived_at = paused_at + timedelta(days=rng.randint(2, 6))
                if archived_at < end:
                    configured.append((archived_at, "ARCHIVED"))
            elif ad.platform == "tiktok" and rng.random() < 0.3:
                resumed_at = paused_at + timedelta(days=rng.randint(1, 4))
                if resumed_at < end:
                    configured.append((resumed_at, "ACTIVE"))
    if ad.platform == "meta" and rng.random() < 0.12:
        begin = ad.created_at + timedelta(days=rng.randint(1, 8), hours=rng.randint(0, 23))
        issues = (begin, begin + timedelta(hours=rng.randint(10, 40)))

    moments = sorted({at for at, _ in configured} | set(campaign_pause or ()) | set(issues or ()))
    for at in moments:
        if at < ad.created_at or at >= end:
            continue
        status = [value for when, value in configured if when <= at][-1]
        in_pause = campaign_pause is not None and campaign_pause[0] <= at < campaign_pause[1]
        in_issue = issues is not None and issues[0] <= at < issues[1]
        if ad.platform == "meta":
            if status != "ACTIVE":
                effective = status
            elif in_pause:
                effective = "CAMPAIGN_PAUSED"
            elif in_issue:
                effective = "WITH_ISSUES"
            else:
                effective = "ACTIVE"
            change = Status(at, status, effective)
        else:
            operation = "ENABLE" if status == "ACTIVE" else "DISABLE"
            secondary = "AD_STATUS_DELIVERY_OK" if operation == "ENABLE" else "AD_STATUS_DISABLE"
            change = Status(at, operation, secondary)
        if not ad.history or (ad.history[-1].status, ad.history[-1].effective) != (
            change.status,
            change.effective,
        ):
            ad.history.append(change)


def _simulate_delivery(
    rng: random.Random, config: WorldConfig, ads: list[Ad]
) -> dict[tuple[str, int], Delivery]:
    delivery: dict[tuple[str, int], Delivery] = {}
    for platform in ("meta", "tiktok"):
        platform_ads = [ad for ad in ads if ad.platform == platform]
        daily_visits = (
            config.users
            * (FIRST_TOUCH_SHARE[platform] + RETARGETED_SESSION_SHARE * FIRST_TOUCH_SHARE[platform])
            / config.days
        )
        target_clicks = max(25.0, 1.6 * daily_visits)
        for day in range(config.days):
            noon = config.start + timedelta(days=day, hours=12)
            live: list[tuple[Ad, float]] = []
            for ad in platform_ads:
                state = ad.status_at(noon)
                if state is None:
                    continue
                if state.effective in ("ACTIVE", "AD_STATUS_DELIVERY_OK"):
                    live.append((ad, 1.0))
                elif state.effective == "WITH_ISSUES":
                    live.append((ad, 0.3))
            if not live:
                continue
            weights = [factor * rng.uniform(0.5, 1.5) for _, factor in live]
            pooled_ctr = sum(ad.base_ctr * w for (ad, _), w in zip(live, weights, strict=True))
            pooled_ctr /= sum(weights)
            total_impressions = target_clicks / pooled_ctr * rng.uniform(0.85, 1.15)
            cpm = 9.0 if platform == "meta" else 6.0
            for (ad, _), weight in zip(live, weights, strict=True):
                impressions = poisson(rng, total_impressions * weight / sum(weights))
                if impressions == 0:
                    continue
                clicks = min(poisson(rng, impressions * ad.base_ctr), impressions)
                spend = round(impressions * cpm * rng.uniform(0.7, 1.3) / 1000, 2)
                reach = max(1, round(impressions / rng.uniform(1.02, 1.35)))
                views = (
                    round(impressions * rng.uniform(0.3, 0.8)) if ad.asset.kind == "video" else 0
                )
                delivery[(ad.ad_id, day)] = Delivery(
                    ad, day, impressions, clicks, spend, reach, views
                )
    return delivery


def staff_events(config: WorldConfig, world: AdWorld) -> list[WorldEvent]:
    """PCT and Content Factory events of the growth team: hooks, videos, published ads."""
    rng = sub_rng(config.seed, "staff-events")
    user = world.staff_user_id
    context = {"app": {"name": "pct", "version": "2.3.0"}, "locale": "en-US"}
    events: list[WorldEvent] = []
    for hook in world.hooks:
        input_tokens = rng.randint(400, 1800)
        output_tokens = rng.randint(60, 400)
        ai_props: dict[str, Any] = {
            "provider": "anthropic",
            "model": "claude-sonnet-4",
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
        }
        if rng.random() < 0.5:
            ai_props["estimated_tokens"] = _estimate(rng, input_tokens + output_tokens)
        events.append(
            WorldEvent(
                new_uuid(rng),
                "ai_generation",
                "pct",
                hook.created_at - timedelta(seconds=20),
                user_id=user,
                properties=ai_props,
                context=context,
            )
        )
        events.append(
            WorldEvent(
                new_uuid(rng),
                "hook_generated",
                "pct",
                hook.created_at,
                user_id=user,
                properties={
                    "hook_id": hook.hook_id,
                    "hook_text": hook.text,
                    "awareness_level": hook.awareness_level,
                    "angle": hook.angle,
                    "template": hook.template,
                },
                context=context,
            )
        )
    cf_context = {"app": {"name": "content-factory", "version": "1.8.1"}, "locale": "en-US"}
    for asset in world.assets:
        if asset.kind != "video":
            continue
        events.append(
            WorldEvent(
                new_uuid(rng),
                "video_generated",
                "content-factory",
                asset.created_at,
                user_id=user,
                properties={
                    "duration_s": asset.duration_s,
                    "template": asset.tags["template"],
                    "asset_id": asset.asset_id,
                },
                context=cf_context,
            )
        )
    for ad in world.ads:
        events.append(
            WorldEvent(
                new_uuid(rng),
                "ad_published",
                "pct",
                ad.created_at,
                user_id=user,
                properties={
                    "platform": ad.platform,
                    "platform_ad_id": ad.ad_id,
                    "hook_id": ad.hook.hook_id,
                    "asset_id": ad.asset.asset_id,
                    "campaign_id": ad.campaign_id,
                },
                context=context,
            )
        )
    return events


def _estimate(rng: random.Random, actual: int) -> int:
    """A token estimate: usually within 1% of the actual count, sometimes well off."""
    if rng.random() < 0.15:
        return round(actual * rng.choice((0.9, 0.95, 1.04, 1.12)))
    return round(actual * rng.uniform(0.995, 1.005))
