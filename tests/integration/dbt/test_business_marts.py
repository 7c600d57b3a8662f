"""The business marts (docs/METRICS.md, Ads to Unified) on hand-built raw rows, on DuckDB and PostgreSQL.

One small world is inserted as the connectors and products would write it: raw API payloads
in the fixtures' shapes (Meta numbers as strings with overlapping purchase action types,
TikTok "-" metrics and "YYYY-MM-DD 00:00:00" days, Stripe minor units and epoch seconds),
shared_events, shared_users and shared_entitlements. dbt builds the marts once per backend
(module-scoped), every expectation below is computed by hand, and the last test compares each
mart between the two backends row for row.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from acd_analytics.warehouse_url import WarehouseTarget

from tests.conftest import BACKENDS, PerBackend, pick_backend
from tests.integration.dbt.conftest import dbt_in, query
from warehouse_db.connection import connect

pytestmark = pytest.mark.slow

BUSINESS_MARTS = (
    "fct_ad_performance_daily",
    "dim_ads",
    "fct_ad_status_history",
    "fct_creative_daily",
    "rpt_creative_performance",
    "rpt_creative_asset_performance",
    "rpt_pct_hook_performance",
    "rpt_pct_feature_performance",
    "fct_tiktok_video_daily",
    "fct_mrr",
    "rpt_mrr_movements",
    "rpt_entitlement_reconciliation",
    "rpt_product_daily",
    "rpt_ai_costs_daily",
    "rpt_cross_product_usage",
)

META_ACCOUNT = "798085168510957"
TIKTOK_ADVERTISER = "7000000000000000001"


def epoch(moment: str) -> int:
    return int(datetime.fromisoformat(moment).replace(tzinfo=UTC).timestamp())


# --------------------------------------------------------------------------------------------
# the world


class RawWriter:
    """Inserts rows with literal SQL that reads the same on both backends."""

    def __init__(self, conn: Any, backend: str) -> None:
        self.conn = conn
        self.json_type = "jsonb" if backend == "postgres" else "json"

    @staticmethod
    def literal(value: Any) -> str:
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return repr(value)
        return "'" + str(value).replace("'", "''") + "'"

    def insert(self, table: str, row: dict[str, Any], json_columns: tuple[str, ...] = ()) -> None:
        values = []
        for column, value in row.items():
            if column in json_columns:
                values.append(f"cast({self.literal(json.dumps(value))} as {self.json_type})")
            else:
                values.append(self.literal(value))
        self.conn.execute(f"insert into {table} ({', '.join(row)}) values ({', '.join(values)})")


def meta_insight(
    ad_id: str, day: str, impressions: int, clicks: int, spend: str, **extra: Any
) -> dict[str, Any]:
    return {
        "account_id": META_ACCOUNT,
        "account_name": "ACD Growth",
        "account_currency": "USD",
        "campaign_id": "23854404676180548",
        "campaign_name": "Hooks test",
        "adset_id": "23854404706320548",
        "adset_name": "Broad",
        "ad_id": ad_id,
        "ad_name": f"Ad {ad_id}",
        "date_start": day,
        "date_stop": day,
        "impressions": str(impressions),
        "clicks": str(clicks),
        "spend": spend,
        **extra,
    }


def load_world(target: WarehouseTarget) -> None:
    with connect(target) as conn:
        raw = RawWriter(conn, target.backend)
        _load_ads(raw)
        _load_tiktok_organic(raw)
        _load_events(raw)
        _load_stripe(raw)
        _load_entitlements(raw)


def _load_ads(raw: RawWriter) -> None:
    # PCT hooks on Meta: pooled CTR = (80 + 20 + 100) / (2000 + 999 + 7001) = 2%.
    purchases = [
        {"action_type": "link_click", "value": "80"},
        {"action_type": "omni_purchase", "value": "2", "7d_click": "2"},
        {"action_type": "purchase", "value": "2"},
        {"action_type": "offsite_conversion.fb_pixel_purchase", "value": "2"},
    ]
    values = [
        {"action_type": "omni_purchase", "value": "100.00"},
        {"action_type": "purchase", "value": "100.00"},
        {"action_type": "offsite_conversion.fb_pixel_purchase", "value": "100.00"},
    ]
    insights = [
        meta_insight(
            "1001",
            "2024-06-01",
            2000,
            80,
            "14.35",
            reach="1800",
            frequency="1.111111",
            actions=purchases,
            action_values=values,
            video_play_actions=[{"action_type": "video_view", "value": "500"}],
        ),
        meta_insight(
            "1002",
            "2024-06-01",
            999,
            20,
            "5.50",
            actions=[{"action_type": "offsite_conversion.fb_pixel_purchase", "value": "1"}],
            action_values=[{"action_type": "offsite_conversion.fb_pixel_purchase", "value": "30"}],
        ),
        # no actions at all: no purchases, no video views (missing is not an error)
        meta_insight("1003", "2024-06-01", 7001, 100, "40.15"),
    ]
    for row in insights:
        raw.insert(
            "raw_meta.ads_insights",
            {
                "ad_id": row["ad_id"],
                "date_start": row["date_start"],
                "account_id": META_ACCOUNT,
                "payload": row,
                "_account_id": META_ACCOUNT,
            },
            ("payload",),
        )
    # ad 1001: ACTIVE, then PAUSED, then an edit that keeps PAUSED (no new status change)
    for updated, status in (
        ("2024-05-30T09:00:00-0700", "ACTIVE"),
        ("2024-06-02T09:00:00-0700", "PAUSED"),
        ("2024-06-03T09:00:00-0700", "PAUSED"),
    ):
        raw.insert(
            "raw_meta.ads",
            {
                "ad_id": "1001",
                "updated_time": datetime.strptime(updated, "%Y-%m-%dT%H:%M:%S%z").isoformat(),
                "effective_status": status,
                "account_id": META_ACCOUNT,
                "payload": {
                    "id": "1001",
                    "name": "Ad 1001",
                    "account_id": META_ACCOUNT,
                    "campaign_id": "23854404676180548",
                    "adset_id": "23854404706320548",
                    "status": status,
                    "configured_status": status,
                    "effective_status": status,
                    "creative": {"id": "555001"},
                    "created_time": "2024-05-29T08:00:00-0700",
                    "updated_time": updated,
                },
                "_account_id": META_ACCOUNT,
            },
            ("payload",),
        )
    # TikTok: strings with unstable decimals and "-" for an unavailable metric
    raw.insert(
        "raw_tiktok.ad_reports",
        {
            "ad_id": "2001",
            "stat_time_day": "2024-06-01",
            "advertiser_id": TIKTOK_ADVERTISER,
            "payload": {
                "dimensions": {"ad_id": "2001", "stat_time_day": "2024-06-01 00:00:00"},
                "metrics": {
                    "campaign_id": "1714125042508817",
                    "campaign_name": "TT test",
                    "adgroup_id": "1714125049901106",
                    "adgroup_name": "TT group",
                    "ad_name": "TT ad",
                    "currency": "USD",
                    "spend": "20.000",
                    "impressions": "1000",
                    "clicks": "10",
                    "reach": "-",
                    "video_play_actions": "900",
                    "conversion": "2",
                    "total_complete_payment_rate": "30.50",
                },
            },
            "_account_id": TIKTOK_ADVERTISER,
        },
        ("payload",),
    )
    for modified, status in (("2024-05-31 10:00:00", "ENABLE"), ("2024-06-02 08:00:00", "DISABLE")):
        raw.insert(
            "raw_tiktok.ads",
            {
                "ad_id": "2001",
                "modify_time": modified,
                "operation_status": status,
                "advertiser_id": TIKTOK_ADVERTISER,
                "payload": {
                    "ad_id": "2001",
                    "ad_name": "TT ad",
                    "advertiser_id": TIKTOK_ADVERTISER,
                    "campaign_id": "1714125042508817",
                    "adgroup_id": "1714125049901106",
                    "operation_status": status,
                    "create_time": "2024-05-31 09:00:00",
                    "modify_time": modified,
                },
                "_account_id": TIKTOK_ADVERTISER,
            },
            ("payload",),
        )


def _load_tiktok_organic(raw: RawWriter) -> None:
    def video(video_id: str, views: int, likes: int, comments: int, shares: int) -> dict[str, Any]:
        return {
            "id": video_id,
            "create_time": 1717081200,
            "title": "",
            "duration": 34,
            "view_count": views,
            "like_count": likes,
            "comment_count": comments,
            "share_count": shares,
        }

    snapshots = [
        (
            "7374807599967286328",
            "2024-06-01 09:00:00+00",
            video("7374807599967286328", 100, 10, 1, 1),
        ),
        (
            "7374807599967286328",
            "2024-06-01 21:00:00+00",
            video("7374807599967286328", 150, 15, 3, 2),
        ),
        # no snapshot on 2024-06-02
        (
            "7374807599967286328",
            "2024-06-03 10:00:00+00",
            video("7374807599967286328", 400, 30, 5, 5),
        ),
        # a video with no views, then gone from the 2024-06-03 fetch
        ("7373432783616036324", "2024-06-01 21:00:00+00", video("7373432783616036324", 0, 0, 0, 0)),
    ]
    for video_id, fetched_at, payload in snapshots:
        raw.insert(
            "raw_tiktok.video_snapshots",
            {
                "video_id": video_id,
                "fetched_at": fetched_at,
                "payload": payload,
                "_account_id": "creator",
            },
            ("payload",),
        )


def _event(
    raw: RawWriter,
    product: str,
    name: str,
    at: str,
    properties: dict[str, Any],
    *,
    user_id: str | None = None,
    anonymous_id: str | None = None,
    context: dict[str, Any] | None = None,
) -> None:
    raw.insert(
        "shared_events",
        {
            "event_id": str(
                uuid.uuid5(
                    uuid.NAMESPACE_URL,
                    f"{name}/{at}/{json.dumps(properties, sort_keys=True)}/{user_id}",
                )
            ),
            "product": product,
            "event_name": name,
            "user_id": user_id,
            "anonymous_id": anonymous_id,
            "occurred_at": at,
            "received_at": at,
            "properties": properties,
            "context": context or {},
        },
        ("properties", "context"),
    )


def _load_events(raw: RawWriter) -> None:
    staff = "staff-1"
    for hook_id, text, level, angle in (
        ("hook-a", "Stop scrolling: this is for you", 2, "curiosity"),
        ("hook-b", "Nobody tells you this", 3, "pain"),
        ("hook-c", "Five tips", 3, "outcome"),
    ):
        _event(
            raw,
            "pct",
            "hook_generated",
            "2024-05-30 10:00:00+00",
            {
                "hook_id": hook_id,
                "hook_text": text,
                "awareness_level": level,
                "angle": angle,
                "template": "question",
            },
            user_id=staff,
        )
    for ad_id, hook_id in (("1001", "hook-a"), ("1002", "hook-b"), ("1003", "hook-c")):
        _event(
            raw,
            "pct",
            "ad_published",
            "2024-05-31 10:00:00+00",
            {
                "platform": "meta",
                "platform_ad_id": ad_id,
                "hook_id": hook_id,
                "asset_id": "asset-1",
                "campaign_id": "23854404676180548",
            },
            user_id=staff,
        )
    _event(
        raw,
        "content-factory",
        "ad_published",
        "2024-05-31 11:00:00+00",
        {"platform": "tiktok", "platform_ad_id": "2001", "asset_id": "asset-1"},
        user_id=staff,
    )
    # a visitor from Meta ad 1001 who signs up and buys for 50 USD
    campaign = {
        "source": "facebook",
        "medium": "paid",
        "name": "23854404676180548",
        "content": "1001",
        "fbclid": "fb.1.abc",
    }
    _event(
        raw,
        "pct",
        "page_viewed",
        "2024-06-01 10:00:00+00",
        {},
        anonymous_id="anon-1",
        context={"campaign": campaign},
    )
    _event(
        raw,
        "pct",
        "signup_completed",
        "2024-06-01 10:05:00+00",
        {"method": "email"},
        user_id="user-1",
        anonymous_id="anon-1",
    )
    _event(
        raw,
        "pct",
        "purchase_completed",
        "2024-06-01 12:00:00+00",
        {"revenue": 50, "currency": "USD", "plan": "pro-monthly"},
        user_id="user-1",
    )
    _event(raw, "portal28", "page_viewed", "2024-06-02 09:00:00+00", {}, user_id="user-1")
    _event(
        raw,
        "pct",
        "ai_generation",
        "2024-06-01 11:00:00+00",
        {
            "provider": "anthropic",
            "model": "claude-haiku-4",
            "input_tokens": 1000,
            "output_tokens": 1000,
            "estimated_tokens": 2030,
        },
        user_id="user-1",
    )


def _price(
    price_id: str,
    product_id: str,
    currency: str,
    amount: int,
    interval: str | None,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "id": price_id,
        "object": "price",
        "active": True,
        "currency": currency,
        "product": product_id,
        "unit_amount": amount,
        "unit_amount_decimal": str(amount),
        "type": "recurring" if interval else "one_time",
        "recurring": {"interval": interval, "interval_count": 1, "usage_type": "licensed"}
        if interval
        else None,
        "metadata": metadata or {},
        "created": epoch("2023-12-01T00:00:00"),
    }


def _load_stripe(raw: RawWriter) -> None:
    bundle = json.dumps(
        [
            {"app": "portal28", "product_id": "creator-bundle"},
            {"app": "pct", "product_id": "creator-bundle"},
        ],
        separators=(",", ":"),
    )
    products = {
        "prod_all": {"acd_product": "portal28"},
        "prod_mp": {"acd_product": "mediaposter"},
        "prod_cf": {"acd_product": "content-factory"},
        "prod_pct": {"acd_product": "pct"},
        "prod_bundle": {"acd_product": "portal28", "bundle_products": bundle},
    }
    for product_id, metadata in products.items():
        raw.insert(
            "raw_stripe.products",
            {
                "id": product_id,
                "created": "2023-12-01 00:00:00+00",
                "payload": {
                    "id": product_id,
                    "object": "product",
                    "name": product_id,
                    "active": True,
                    "metadata": metadata,
                    "created": epoch("2023-12-01T00:00:00"),
                },
                "_account_id": "acct_1",
            },
            ("payload",),
        )
    prices = {
        "price_yearly": _price("price_yearly", "prod_all", "usd", 120000, "year"),
        "price_jpy": _price("price_jpy", "prod_mp", "jpy", 5000, "month"),
        "price_seat": _price("price_seat", "prod_cf", "usd", 1000, "month"),
        "price_pct": _price("price_pct", "prod_pct", "usd", 2000, "month"),
        "price_bundle": _price("price_bundle", "prod_bundle", "usd", 49700, None),
        "price_plain": _price("price_plain", "prod_pct", "usd", 1500, None),
    }
    for price in prices.values():
        raw.insert(
            "raw_stripe.prices",
            {
                "id": price["id"],
                "created": "2023-12-01 00:00:00+00",
                "payload": price,
                "_account_id": "acct_1",
            },
            ("payload",),
        )
    for customer_id in ("cus_1", "cus_2", "cus_3", "cus_4"):
        raw.insert(
            "raw_stripe.customers",
            {
                "id": customer_id,
                "created": "2023-12-01 00:00:00+00",
                "payload": {
                    "id": customer_id,
                    "object": "customer",
                    "email": f"{customer_id}@example.com",
                    "created": epoch("2023-12-01T00:00:00"),
                },
                "_account_id": "acct_1",
            },
            ("payload",),
        )

    def item(
        item_id: str, sub_id: str, price_key: str, quantity: int, started: str
    ) -> dict[str, Any]:
        return {
            "id": item_id,
            "object": "subscription_item",
            "price": prices[price_key],
            "quantity": quantity,
            "subscription": sub_id,
            "created": epoch(started),
            "current_period_start": epoch("2024-06-10T00:00:00"),
            "current_period_end": epoch("2024-07-10T00:00:00"),
        }

    subscriptions = [
        # (id, customer, price, quantity, started, ended)
        ("sub_yearly", "cus_1", "price_yearly", 1, "2024-01-10T00:00:00", None),
        ("sub_jpy", "cus_2", "price_jpy", 1, "2024-02-05T00:00:00", None),
        ("sub_up", "cus_3", "price_seat", 3, "2024-01-15T00:00:00", None),
        ("sub_a", "cus_4", "price_pct", 1, "2024-01-05T00:00:00", "2024-02-10T00:00:00"),
        ("sub_b", "cus_4", "price_pct", 1, "2024-04-02T00:00:00", None),
    ]
    for sub_id, customer_id, price_key, quantity, started, ended in subscriptions:
        sub_item = item(f"si_{sub_id}", sub_id, price_key, quantity, started)
        payload = {
            "id": sub_id,
            "object": "subscription",
            "customer": customer_id,
            "status": "canceled" if ended else "active",
            "currency": prices[price_key]["currency"],
            "created": epoch(started),
            "start_date": epoch(started),
            "canceled_at": epoch(ended) if ended else None,
            "ended_at": epoch(ended) if ended else None,
            "cancel_at_period_end": False,
            "items": {
                "object": "list",
                "data": [sub_item],
                "has_more": False,
                "url": f"/v1/subscription_items?subscription={sub_id}",
            },
        }
        raw.insert(
            "raw_stripe.subscriptions",
            {
                "id": sub_id,
                "created": started + "+00:00",
                "payload": payload,
                "_account_id": "acct_1",
            },
            ("payload",),
        )
        raw.insert(
            "raw_stripe.subscription_items",
            {
                "id": sub_item["id"],
                "subscription_id": sub_id,
                "created": started + "+00:00",
                "payload": sub_item,
                "_account_id": "acct_1",
            },
            ("payload",),
        )
        if sub_id == "sub_up":
            # upgraded from 1 to 3 seats on 2024-03-20: the event keeps the old items
            before = item("si_sub_up", "sub_up", "price_seat", 1, started)
            event = {
                "id": "evt_up",
                "object": "event",
                "api_version": "2024-06-20",
                "created": epoch("2024-03-20T12:00:00"),
                "type": "customer.subscription.updated",
                "data": {
                    "object": payload,
                    "previous_attributes": {
                        "items": {"object": "list", "data": [before], "has_more": False}
                    },
                },
            }
            raw.insert(
                "raw_stripe.events",
                {
                    "id": "evt_up",
                    "created": "2024-03-20 12:00:00+00",
                    "payload": event,
                    "_account_id": "acct_1",
                },
                ("payload",),
            )

    # one-off bundle purchases for the reconciliation, and one plain purchase
    charges = [
        ("ch_ok", "cus_1", "price_bundle", 49700, 0, "2024-05-01T10:00:00"),
        ("ch_missing", "cus_2", "price_bundle", 49700, 0, "2024-05-01T10:00:00"),
        ("ch_refund", "cus_3", "price_bundle", 49700, 49700, "2024-05-01T10:00:00"),
        ("ch_pending", "cus_4", "price_bundle", 49700, 0, "2024-05-01T10:00:00"),
        ("ch_plain", "cus_4", "price_plain", 1500, 0, "2024-05-02T10:00:00"),
    ]
    for charge_id, customer_id, price_key, amount, refunded, created in charges:
        raw.insert(
            "raw_stripe.charges",
            {
                "id": charge_id,
                "created": created + "+00:00",
                "payload": {
                    "id": charge_id,
                    "object": "charge",
                    "amount": amount,
                    "amount_refunded": refunded,
                    "currency": "usd",
                    "customer": customer_id,
                    "paid": True,
                    "refunded": refunded >= amount,
                    "status": "succeeded",
                    "captured": True,
                    "created": epoch(created),
                    "metadata": {"price": price_key, "product": prices[price_key]["product"]},
                },
                "_account_id": "acct_1",
            },
            ("payload",),
        )
    raw.insert(
        "raw_stripe.refunds",
        {
            "id": "re_1",
            "created": "2024-05-03 00:00:00+00",
            "payload": {
                "id": "re_1",
                "object": "refund",
                "amount": 49700,
                "charge": "ch_refund",
                "currency": "usd",
                "status": "succeeded",
                "created": epoch("2024-05-03T00:00:00"),
            },
            "_account_id": "acct_1",
        },
        ("payload",),
    )


def _load_entitlements(raw: RawWriter) -> None:
    for email_user, customer in (
        ("user-1", "cus_1"),
        ("user-2", "cus_2"),
        ("user-3", "cus_3"),
        ("user-4", "cus_4"),
    ):
        raw.insert(
            "shared_users",
            {
                "id": email_user,
                "email": f"{email_user}@example.com",
                "stripe_customer_id": customer,
                "created_at": "2024-01-01 00:00:00+00",
                "updated_at": "2024-01-01 00:00:00+00",
            },
        )
    granted = "2024-05-01 10:05:00+00"
    rows = [
        ("e-ok-1", "user-1", "portal28", "active", "ch_ok", None),
        ("e-ok-2", "user-1", "pct", "active", "ch_ok", None),
        ("e-missing-1", "user-2", "portal28", "active", "ch_missing", None),
        ("e-refund-1", "user-3", "portal28", "active", "ch_refund", None),
        ("e-refund-2", "user-3", "pct", "revoked", "ch_refund", "2024-05-03 00:01:00+00"),
        ("e-pending-1", "user-4", "portal28", "active", "ch_pending", None),
        ("e-pending-2", None, "pct", "pending", "ch_pending", None),
        ("e-orphan", "user-4", "content-factory", "active", "in_UNKNOWN", None),
        ("e-plain", "user-4", "pct", "active", "ch_plain", None),
    ]
    for entitlement_id, user_id, product, status, purchase, revoked_at in rows:
        raw.insert(
            "shared_entitlements",
            {
                "id": entitlement_id,
                "user_id": user_id,
                "product": product,
                "plan": "creator-bundle",
                "status": status,
                "source_app": "portal28",
                "source_purchase_id": purchase,
                "pending_for_email": "user-4@example.com" if user_id is None else None,
                "granted_at": granted,
                "revoked_at": revoked_at,
                "expires_at": None,
            },
        )


# --------------------------------------------------------------------------------------------
# build once per backend


def _dbt_build(target: WarehouseTarget, work: Path) -> None:
    selection = [f"+{mart}" for mart in BUSINESS_MARTS]
    dbt_in(target, ["build", "--indirect-selection", "cautious", "--select", *selection], work)


@pytest.fixture(scope="module")
def built_targets(
    session_warehouse: Callable[[str, Path], WarehouseTarget],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, WarehouseTarget]:
    """The hand-built rows, loaded and built once per backend (lazily) for the whole module."""

    def build(backend: str) -> WarehouseTarget:
        work = tmp_path_factory.mktemp(f"business_{backend}")
        target = session_warehouse(backend, work)
        load_world(target)
        _dbt_build(target, work)
        return target

    return PerBackend(build)


@pytest.fixture(params=BACKENDS)
def built(
    request: pytest.FixtureRequest, built_targets: dict[str, WarehouseTarget]
) -> WarehouseTarget:
    return pick_backend(request, built_targets)


def rows(target: WarehouseTarget, sql: str) -> list[tuple[Any, ...]]:
    return query(target, sql)


def close(actual: Any, expected: float, tolerance: float = 1e-9) -> bool:
    return actual is not None and math.isclose(float(actual), expected, abs_tol=tolerance)


# --------------------------------------------------------------------------------------------
# expectations


def test_ad_performance_counts_one_purchase_type(built: WarehouseTarget) -> None:
    result = {
        (platform, ad_id): rest
        for platform, ad_id, *rest in rows(
            built,
            """
            select platform, ad_id, report_date, impressions, clicks, spend, reach, video_views,
                   platform_conversions, platform_conversion_value, currency, adset_id
            from marts.fct_ad_performance_daily
            """,
        )
    }
    assert set(result) == {("meta", "1001"), ("meta", "1002"), ("meta", "1003"), ("tiktok", "2001")}
    day, impressions, clicks, spend, reach, views, conversions, value, currency, _ = result[
        ("meta", "1001")
    ]
    assert (day, impressions, clicks, reach, views, currency) == (
        date(2024, 6, 1),
        2000,
        80,
        1800,
        500,
        "USD",
    )
    assert Decimal(spend) == Decimal("14.35")
    # omni_purchase, purchase and the pixel purchase are the same 2 purchases, not 6
    assert Decimal(conversions) == 2 and Decimal(value) == 100
    assert [Decimal(x) for x in result[("meta", "1002")][6:8]] == [1, 30]
    # no actions at all: no purchases and no video views, and no reach reported
    reach, views, conversions, value = result[("meta", "1003")][4:8]
    assert (reach, views, Decimal(conversions), Decimal(value)) == (None, 0, 0, 0)
    tiktok = result[("tiktok", "2001")]
    assert Decimal(tiktok[3]) == 20 and tiktok[4] is None  # reach "-" is unknown, not 0
    assert (tiktok[5], Decimal(tiktok[6]), Decimal(tiktok[7]), tiktok[9]) == (
        900,
        2,
        Decimal("30.5"),
        "1714125049901106",
    )


def test_status_history_and_dim_ads(built: WarehouseTarget) -> None:
    history = rows(
        built,
        """
        select platform, ad_id, from_status, to_status, changed_at
        from marts.fct_ad_status_history order by platform, ad_id, changed_at
        """,
    )
    assert [(p, a, f, t) for p, a, f, t, _ in history] == [
        ("meta", "1001", None, "ACTIVE"),
        ("meta", "1001", "ACTIVE", "PAUSED"),
        ("tiktok", "2001", None, "ENABLE"),
        ("tiktok", "2001", "ENABLE", "DISABLE"),
    ]
    assert history[1][4] == datetime(2024, 6, 2, 16, 0, tzinfo=UTC)
    ads = {
        (platform, ad_id): (status, asset_id, hook_id, creative_id, product)
        for platform, ad_id, status, asset_id, hook_id, creative_id, product in rows(
            built,
            "select platform, ad_id, status, asset_id, hook_id, creative_id, published_by_product from marts.dim_ads",
        )
    }
    assert ads[("meta", "1001")] == ("PAUSED", "asset-1", "hook-a", "555001", "pct")
    assert ads[("tiktok", "2001")] == ("DISABLE", "asset-1", None, None, "content-factory")


def test_pct_hooks_against_a_two_percent_baseline(built: WarehouseTarget) -> None:
    hooks = {
        hook_id: rest
        for hook_id, *rest in rows(
            built,
            """
            select hook_id, impressions, clicks, baseline_ctr, ctr_lower, ctr_upper, status, rank,
                   hook_text, awareness_level, angle
            from marts.rpt_pct_hook_performance where platform = 'meta'
            """,
        )
    }
    impressions, clicks, baseline, lower, upper, status, rank, text, level, angle = hooks["hook-a"]
    assert (impressions, clicks) == (2000, 80)
    assert close(baseline, 0.02)
    assert close(lower, 0.03225661944600628) and close(upper, 0.04950712874646562)
    assert (status, rank, level, angle) == ("winner", 1, 2, "curiosity")
    assert text == "Stop scrolling: this is for you"
    assert hooks["hook-b"][0] == 999 and hooks["hook-b"][5] == "testing"
    assert hooks["hook-c"][5] == "loser"
    features = rows(
        built,
        """
        select feature_value, hooks, decided_hooks, winners, winner_share
        from marts.rpt_pct_feature_performance
        where platform = 'meta' and feature = 'awareness_level' order by feature_value
        """,
    )
    assert [(v, h, d, w) for v, h, d, w, _ in features] == [("2", 1, 1, 1), ("3", 2, 1, 0)]
    assert close(features[0][4], 1.0) and close(features[1][4], 0.0)


def test_creative_performance_with_last_touch_conversions(built: WarehouseTarget) -> None:
    (row,) = rows(
        built,
        """
        select asset_id, hook_id, conversions, conversion_value, ctr, cpc, cpm, cpa, roas
        from marts.rpt_creative_performance
        where platform = 'meta' and ad_id = '1001' and report_date = date '2024-06-01'
        """,
    )
    asset_id, hook_id, conversions, value, ctr, cpc, cpm, cpa, roas = row
    # the visitor's signup (value 0) and purchase (50 USD) both land on the ad by last touch
    assert (asset_id, hook_id, Decimal(conversions), Decimal(value)) == ("asset-1", "hook-a", 2, 50)
    assert close(ctr, 0.04) and close(cpc, 14.35 / 80) and close(cpm, 7.175)
    assert close(cpa, 14.35 / 2) and close(roas, 50 / 14.35)
    (no_clicks,) = rows(
        built,
        "select cpa, roas from marts.rpt_creative_performance where ad_id = '1003'",
    )
    assert no_clicks[0] is None  # no conversions: no CPA
    # one asset on two platforms rolls up to one row per day
    assets = rows(
        built,
        "select asset_id, report_date, platforms, ads, impressions from marts.rpt_creative_asset_performance",
    )
    assert assets == [("asset-1", date(2024, 6, 1), 2, 4, 2000 + 999 + 7001 + 1000)]


def test_tiktok_video_daily_gains_over_a_missing_day(built: WarehouseTarget) -> None:
    result = rows(
        built,
        """
        select video_id, snapshot_date, views, views_gained, likes_gained, previous_snapshot_date,
               engagement_rate, is_in_latest_fetch
        from marts.fct_tiktok_video_daily order by video_id, snapshot_date
        """,
    )
    assert [r[:6] for r in result] == [
        ("7373432783616036324", date(2024, 6, 1), 0, 0, 0, None),
        ("7374807599967286328", date(2024, 6, 1), 150, 150, 15, None),
        ("7374807599967286328", date(2024, 6, 3), 400, 250, 15, date(2024, 6, 1)),
    ]
    assert result[0][6] is None and result[0][7] is False  # 0 views; gone from the last fetch
    assert close(result[1][6], 20 / 150) and close(result[2][6], 40 / 400)
    assert result[2][7] is True


def test_mrr_normalization_currencies_and_movements(built: WarehouseTarget) -> None:
    mrr = {
        (sub, month): (Decimal(value), movement, product, currency)
        for sub, month, value, movement, product, currency in rows(
            built,
            "select subscription_id, month, mrr, movement, product, currency from marts.fct_mrr",
        )
    }
    # a yearly subscription of 1,200.00 USD is 100.00 MRR
    assert mrr[("sub_yearly", date(2024, 1, 1))] == (Decimal(100), "new", "portal28", "USD")
    assert mrr[("sub_yearly", date(2024, 6, 1))][:2] == (Decimal(100), "unchanged")
    # a JPY monthly plan of ¥5000 is 5000 MRR (zero-decimal currency)
    assert mrr[("sub_jpy", date(2024, 2, 1))] == (Decimal(5000), "new", "mediaposter", "JPY")
    # 1 → 3 seats on 2024-03-20, known from the event's previous_attributes: expansion
    assert mrr[("sub_up", date(2024, 2, 1))][:2] == (Decimal(10), "unchanged")
    assert mrr[("sub_up", date(2024, 3, 1))][:2] == (Decimal(30), "expansion")
    # cancel (2024-02-10) then resubscribe (2024-04-02): churned, then reactivation
    assert mrr[("sub_a", date(2024, 1, 1))][:2] == (Decimal(20), "new")
    assert mrr[("sub_a", date(2024, 2, 1))][:2] == (Decimal(0), "churned")
    assert ("sub_a", date(2024, 3, 1)) not in mrr
    assert mrr[("sub_b", date(2024, 4, 1))][:2] == (Decimal(20), "reactivation")
    assert max(month for _, month in mrr) == date(2024, 6, 1)
    movements = {
        month: (Decimal(start), Decimal(churned), Decimal(reactivated), Decimal(end))
        for month, start, churned, reactivated, end in rows(
            built,
            """
            select month, starting_mrr, churned_mrr, reactivation_mrr, ending_mrr
            from marts.rpt_mrr_movements where product = 'pct' and currency = 'USD'
            """,
        )
    }
    assert movements[date(2024, 2, 1)] == (20, 20, 0, 0)
    assert movements[date(2024, 4, 1)] == (0, 0, 20, 20)


def test_reconciliation_flags_each_fault_and_nothing_else(built: WarehouseTarget) -> None:
    result = rows(
        built,
        """
        select source_purchase_id, app, issue_type, entitlement_id, amount, currency, user_id,
               email, detected_at
        from marts.rpt_entitlement_reconciliation order by source_purchase_id, app
        """,
    )
    issues = {(purchase, app): issue for purchase, app, issue, *_ in result}
    assert issues == {
        ("ch_missing", "pct"): "missing_grant",
        ("ch_missing", "portal28"): "ok",
        ("ch_ok", "pct"): "ok",
        ("ch_ok", "portal28"): "ok",
        ("ch_pending", "pct"): "pending_unclaimed",
        ("ch_pending", "portal28"): "ok",
        ("ch_refund", "pct"): "ok",
        ("ch_refund", "portal28"): "not_revoked_after_refund",
        ("in_UNKNOWN", "content-factory"): "grant_without_purchase",
    }
    by_key = {(r[0], r[1]): r for r in result}
    missing = by_key[("ch_missing", "pct")]
    assert missing[3] is None and Decimal(missing[4]) == Decimal("497") and missing[5] == "USD"
    assert (missing[6], missing[7]) == ("user-2", "user-2@example.com")
    assert missing[8] == datetime(2024, 5, 1, 10, 15, tzinfo=UTC)
    assert by_key[("ch_refund", "portal28")][8] == datetime(2024, 5, 3, tzinfo=UTC)
    assert by_key[("ch_pending", "pct")][7] == "user-4@example.com"
    assert by_key[("in_UNKNOWN", "content-factory")][4] is None


def test_unified_reports(built: WarehouseTarget) -> None:
    (ai,) = rows(
        built,
        """
        select product, provider, model, generations, cost_usd, token_discrepancy_ratio,
               is_discrepancy_flagged
        from marts.rpt_ai_costs_daily
        """,
    )
    assert ai[:4] == ("pct", "anthropic", "claude-haiku-4", 1)
    assert (
        close(ai[4], 1000 * 1.0 / 1e6 + 1000 * 5.0 / 1e6) and close(ai[5], 0.015) and ai[6] is True
    )
    (pct_day,) = rows(
        built,
        """
        select active_persons, new_persons, signups, purchases, ad_spend,
               last_touch_attributed_value, roas, ai_cost_usd
        from marts.rpt_product_daily where product = 'pct' and activity_date = date '2024-06-01'
        """,
    )
    active, new, signups, purchases, spend, attributed, roas, ai_cost = pct_day
    assert (signups, purchases) == (1, 1) and active >= 1 and new >= 1
    assert Decimal(spend) == Decimal("60.00")  # 14.35 + 5.50 + 40.15 on ads PCT published
    assert Decimal(attributed) == 50 and close(roas, 50 / 60) and close(ai_cost, 0.006)
    usage = dict(
        (combination, (persons, converted))
        for combination, persons, converted in rows(
            built,
            "select product_combination, persons, converted_persons from marts.rpt_cross_product_usage",
        )
    )
    assert usage == {"pct+portal28": (1, 1), "content-factory+pct": (1, 0)}


# --------------------------------------------------------------------------------------------
# the same inputs give the same marts on both backends


def _normalized(value: Any) -> Any:
    if isinstance(value, Decimal | float):
        return float(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value


def _sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(
        (value is None, str(round(value, 6)) if isinstance(value, float) else str(value))
        for value in row
    )


@pytest.mark.postgres
def test_marts_are_identical_on_duckdb_and_postgres(
    built_targets: dict[str, WarehouseTarget], postgres_admin: WarehouseTarget
) -> None:
    built_duckdb, built_postgres = built_targets["duckdb"], built_targets["postgres"]
    for mart in BUSINESS_MARTS:
        duck = sorted(
            (
                tuple(_normalized(v) for v in r)
                for r in rows(built_duckdb, f"select * from marts.{mart}")
            ),
            key=_sort_key,
        )
        pg = sorted(
            (
                tuple(_normalized(v) for v in r)
                for r in rows(built_postgres, f"select * from marts.{mart}")
            ),
            key=_sort_key,
        )
        assert duck, f"{mart} is empty"
        assert len(duck) == len(pg), mart
        for duck_row, pg_row in zip(duck, pg, strict=True):
            for duck_value, pg_value in zip(duck_row, pg_row, strict=True):
                if isinstance(duck_value, float) and isinstance(pg_value, float):
                    assert math.isclose(duck_value, pg_value, abs_tol=1e-9), (
                        mart,
                        duck_row,
                        pg_row,
                    )
                else:
                    assert duck_value == pg_value, (mart, duck_row, pg_row)
