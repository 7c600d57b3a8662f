"""The sample world: deterministic, internally consistent, in the platforms' real shapes."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from acd_sample_world.config import OFFERS_BY_KEY, PRODUCTS
from acd_sample_world.store import read_jsonl

from tests.unit.world.world_checks import (
    FIXTURES,
    BuiltWorld,
    build,
    load_fixture,
    minor_units,
    payload_hashes,
    shape_errors,
    stripe_objects,
)

SLUG = r"^[a-z][a-z0-9-]{1,39}$"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> BuiltWorld:
    return build(tmp_path_factory.mktemp("world-a"))


@pytest.fixture(scope="module")
def world_again(tmp_path_factory: pytest.TempPathFactory) -> BuiltWorld:
    return build(tmp_path_factory.mktemp("world-b"))


@pytest.fixture(scope="module")
def other_world(tmp_path_factory: pytest.TempPathFactory) -> BuiltWorld:
    return build(tmp_path_factory.mktemp("world-c"), seed=12)


def _event_tuples(world: BuiltWorld) -> list[tuple[Any, ...]]:
    return [
        (
            e.event_id,
            e.event_name,
            e.product,
            e.occurred_at,
            e.user_id,
            e.anonymous_id,
            e.session_id,
            json.dumps(e.properties, sort_keys=True),
            json.dumps(e.context, sort_keys=True),
        )
        for e in world.events
    ]


# Determinism --------------------------------------------------------------------------------


def test_same_seed_gives_identical_payload_bytes_rows_and_events(
    world: BuiltWorld, world_again: BuiltWorld
) -> None:
    hashes = payload_hashes(world.config.out_dir)
    assert len(hashes) > 20
    assert hashes == payload_hashes(world_again.config.out_dir)
    assert world.tables == world_again.tables
    assert _event_tuples(world) == _event_tuples(world_again)


def test_a_different_seed_gives_different_data(world: BuiltWorld, other_world: BuiltWorld) -> None:
    ours, theirs = payload_hashes(world.config.out_dir), payload_hashes(other_world.config.out_dir)
    assert len(ours) == len(theirs)  # the same layout for the same period ...
    assert ours["stripe/customers.jsonl"] != theirs["stripe/customers.jsonl"]  # ... new content
    assert len(set(ours.values()) & set(theirs.values())) <= 2  # e.g. empty refunds files
    assert {e.event_id for e in world.events}.isdisjoint({e.event_id for e in other_world.events})
    assert world.manifest["accounts"] != other_world.manifest["accounts"]


def test_regenerating_into_the_same_folder_replaces_the_previous_world(tmp_path: Path) -> None:
    build(tmp_path, users=30, days=20, seed=3)
    second = build(tmp_path, users=30, days=8, seed=3)
    insight_days = list((tmp_path / "meta").rglob("insights/*.jsonl"))
    assert len(insight_days) == second.config.days


# Events -------------------------------------------------------------------------------------


def test_events_follow_the_event_contract(world: BuiltWorld) -> None:
    import re

    names = {e.event_name for e in world.events}
    assert {
        "page_viewed",
        "signup_completed",
        "identify",
        "alias",
        "purchase_completed",
        "subscription_canceled",
        "hook_generated",
        "ad_published",
        "video_generated",
        "content_published",
        "ai_generation",
        "waitlist_joined",
    } <= names
    assert {e.product for e in world.events} == set(PRODUCTS)
    assert len({e.event_id for e in world.events}) == len(world.events)
    for event in world.events:
        assert re.fullmatch(SLUG, event.product)
        assert event.user_id or event.anonymous_id
        assert event.occurred_at.tzinfo is not None
        assert event.occurred_at < world.config.end
        props = event.properties
        if event.event_name == "hook_generated":
            assert 1 <= props["awareness_level"] <= 5 and props["angle"] and props["hook_text"]
        if event.event_name == "ai_generation":
            assert props["input_tokens"] > 0 and props["output_tokens"] > 0


def test_some_token_estimates_are_more_than_one_percent_off(world: BuiltWorld) -> None:
    generations = [e.properties for e in world.events if e.event_name == "ai_generation"]
    estimated = [p for p in generations if "estimated_tokens" in p]
    off = [
        p
        for p in estimated
        if abs(p["estimated_tokens"] - p["input_tokens"] - p["output_tokens"])
        > 0.01 * (p["input_tokens"] + p["output_tokens"])
    ]
    assert 0 < len(estimated) < len(generations)
    assert 0 < len(off) < len(estimated)


# Referential consistency --------------------------------------------------------------------


def _delivering_ads(world: BuiltWorld) -> dict[tuple[str, str], set[str]]:
    """(platform, date) -> ad ids with delivery that day in the payload files."""
    result: dict[tuple[str, str], set[str]] = defaultdict(set)
    for path in (world.config.out_dir / "meta").rglob("insights/*.jsonl"):
        for row in read_jsonl(path):
            if int(row["impressions"]) > 0:
                result[("meta", row["date_start"])].add(row["ad_id"])
    for path in (world.config.out_dir / "tiktok").rglob("report/*.jsonl"):
        for row in read_jsonl(path):
            if int(row["metrics"]["impressions"]) > 0:
                day = row["dimensions"]["stat_time_day"][:10]
                result[("tiktok", day)].add(row["dimensions"]["ad_id"])
    return result


def test_every_ad_click_names_an_ad_delivering_that_day(world: BuiltWorld) -> None:
    delivering = _delivering_ads(world)
    campaigns = {}
    for path in (world.config.out_dir / "meta").rglob("insights/*.jsonl"):
        campaigns.update({row["ad_id"]: row["campaign_id"] for row in read_jsonl(path)})
    for path in (world.config.out_dir / "tiktok").rglob("report/*.jsonl"):
        campaigns.update(
            {r["dimensions"]["ad_id"]: r["metrics"]["campaign_id"] for r in read_jsonl(path)}
        )
    clicks = [e for e in world.events if "content" in e.context.get("campaign", {})]
    clicks = [e for e in clicks if e.context["campaign"]["medium"] == "paid_social"]
    assert len(clicks) > 20
    platforms = set()
    for event in clicks:
        campaign = event.context["campaign"]
        platform = "tiktok" if campaign["source"] == "tiktok" else "meta"
        platforms.add(platform)
        assert campaign["source"] in ("facebook", "instagram", "tiktok")
        assert ("ttclid" if platform == "tiktok" else "fbclid") in campaign
        day = event.occurred_at.date().isoformat()
        assert campaign["content"] in delivering[(platform, day)], (platform, day, campaign)
        assert campaign["name"] == campaigns[campaign["content"]]
        url = event.context["page"]["url"]
        assert f"utm_content={campaign['content']}" in url
        assert f"utm_campaign={campaign['name']}" in url
    assert platforms == {"meta", "tiktok"}


def test_ad_published_events_link_every_ad_to_a_hook_and_an_asset(world: BuiltWorld) -> None:
    published = {
        e.properties["platform_ad_id"]: e.properties
        for e in world.events
        if e.event_name == "ad_published"
    }
    hooks = {e.properties["hook_id"] for e in world.events if e.event_name == "hook_generated"}
    assets = world.tables["shared_assets"]
    for platform in ("meta", "tiktok"):
        for path in (world.config.out_dir / platform).rglob("ads.jsonl"):
            for line in read_jsonl(path):
                ad_id = line["ad"].get("id") or line["ad"]["ad_id"]
                assert published[ad_id]["platform"] == platform
                assert published[ad_id]["hook_id"] in hooks
                assert published[ad_id]["asset_id"] in assets
    used = [p["asset_id"] for p in published.values()]
    assert len(set(used)) < len(used), "some creative assets are reused across ads"
    assert all(len(asset["sha256"]) == 64 for asset in assets.values())


def test_purchases_match_stripe_charges_and_invoices(world: BuiltWorld) -> None:
    charges = {c["id"]: c for c in stripe_objects(world.config.out_dir, "charges")}
    invoices = {i["id"]: i for i in stripe_objects(world.config.out_dir, "invoices")}
    purchases = [e for e in world.events if e.event_name == "purchase_completed"]
    assert purchases
    currencies = set()
    for event in purchases:
        props = event.properties
        charge = charges[props["stripe_charge_id"]]
        assert charge["currency"] == props["currency"].lower()
        assert charge["amount"] == minor_units(props["revenue"], props["currency"])
        currencies.add(charge["currency"])
        if "stripe_invoice_id" in props:
            invoice = invoices[props["stripe_invoice_id"]]
            assert invoice["total"] == charge["amount"]
            assert charge["metadata"]["invoice"] == invoice["id"]
    assert {"usd", "jpy", "kwd"} <= currencies


def test_stripe_covers_the_billing_cases(world: BuiltWorld) -> None:
    subs = stripe_objects(world.config.out_dir, "subscriptions")
    intervals = {s["items"]["data"][0]["price"]["recurring"]["interval"] for s in subs}
    assert {"month", "year"} <= intervals
    assert any(s["items"]["data"][0]["quantity"] > 1 for s in subs)
    assert any(s["status"] == "canceled" for s in subs)
    by_customer = defaultdict(list)
    for sub in subs:
        by_customer[sub["customer"]].append(sub["status"])
    assert any("canceled" in s and "active" in s for s in by_customer.values()), "resubscribe"
    refunds = stripe_objects(world.config.out_dir, "refunds")
    assert refunds
    events = stripe_objects(world.config.out_dir, "events")
    types = {e["type"] for e in events}
    assert {
        "customer.created",
        "charge.succeeded",
        "invoice.paid",
        "charge.refunded",
        "customer.subscription.created",
        "customer.subscription.deleted",
    } <= types
    created = [e["created"] for e in events]
    assert created == sorted(created, reverse=True), "newest first"


def _expected_bundle_grants(world: BuiltWorld) -> dict[str, tuple[set[str], dict[str, Any]]]:
    """purchase id -> (apps expected, the purchase), from Stripe metadata alone."""
    out_dir = world.config.out_dir
    products = {p["id"]: p for p in stripe_objects(out_dir, "products")}
    prices = {p["id"]: p for p in stripe_objects(out_dir, "prices")}

    def bundle(price_id: str, product_id: str) -> set[str]:
        raw = prices[price_id]["metadata"].get("bundle_products") or products[product_id][
            "metadata"
        ].get("bundle_products")
        return {item["app"] for item in json.loads(raw)} if raw else set()

    expected: dict[str, tuple[set[str], dict[str, Any]]] = {}
    for charge in stripe_objects(out_dir, "charges"):
        if "price" in charge["metadata"]:
            apps = bundle(charge["metadata"]["price"], charge["metadata"]["product"])
            if apps:
                expected[charge["id"]] = (apps, charge)
    for invoice in stripe_objects(out_dir, "invoices"):
        for line in invoice["lines"]["data"]:
            details = line["pricing"]["price_details"]
            apps = bundle(details["price"], details["product"])
            if apps:
                expected[invoice["id"]] = (apps, invoice)
    return expected


def test_bundle_purchases_have_their_entitlements_except_the_listed_faults(
    world: BuiltWorld,
) -> None:
    expected = _expected_bundle_grants(world)
    assert len(expected) >= 3
    charges = {c["id"]: c for c in stripe_objects(world.config.out_dir, "charges")}
    entitlements = list(world.tables["shared_entitlements"].values())
    found = defaultdict(list)
    for row in entitlements:
        found[(row["source_purchase_id"], row["product"])].append(row)
    faults = world.manifest["faults"]
    by_type = defaultdict(set)
    for fault in faults:
        by_type[fault["issue_type"]].add((fault["source_purchase_id"], fault["app"]))
    assert set(by_type) == {
        "missing_grant",
        "not_revoked_after_refund",
        "pending_unclaimed",
        "grant_without_purchase",
    }

    detected = defaultdict(set)
    for purchase_id, (apps, _purchase) in expected.items():
        charge = charges.get(purchase_id)
        refunded = charge is not None and charge["refunded"]
        for app in apps:
            rows = found.get((purchase_id, app), [])
            if not rows:
                detected["missing_grant"].add((purchase_id, app))
                continue
            (row,) = rows
            if refunded and row["status"] == "active":
                detected["not_revoked_after_refund"].add((purchase_id, app))
            if row["status"] == "pending":
                assert row["pending_for_email"] and row["user_id"] is None
                if world.config.end - row["granted_at"] > timedelta(days=7):
                    detected["pending_unclaimed"].add((purchase_id, app))
    known = set(charges) | {i["id"] for i in stripe_objects(world.config.out_dir, "invoices")}
    for row in entitlements:
        if row["source_purchase_id"] not in known:
            detected["grant_without_purchase"].add((row["source_purchase_id"], row["product"]))
    assert dict(detected) == dict(by_type)


def test_users_and_entitlements_are_well_formed(world: BuiltWorld) -> None:
    users = world.tables["shared_users"]
    customers = {c["id"] for c in stripe_objects(world.config.out_dir, "customers")}
    linked = [u for u in users.values() if u["stripe_customer_id"]]
    assert linked and all(u["stripe_customer_id"] in customers for u in linked)
    assert len(linked) < len(customers) + 1
    event_users = {e.user_id for e in world.events if e.user_id}
    assert event_users <= set(users)
    for row in world.tables["shared_entitlements"].values():
        assert row["status"] in ("active", "pending", "revoked")
        assert row["user_id"] or row["pending_for_email"]
        assert (row["status"] == "revoked") == (row["revoked_at"] is not None)


def test_tiktok_video_counters_only_grow(world: BuiltWorld) -> None:
    lines = read_jsonl(world.files.tiktok_videos)
    assert lines
    for line in lines:
        daily = line["daily"]
        for before, after in itertools.pairwise(daily):
            assert all(a >= b for a, b in zip(after[1:], before[1:], strict=True))
    published = {
        e.properties["post_id"]
        for e in world.events
        if e.event_name == "content_published" and e.properties["platform"] == "tiktok"
    }
    assert {line["video"]["id"] for line in lines} <= published


def test_hooks_differ_truly_in_click_through_rate(world: BuiltWorld) -> None:
    clicks: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for path in (world.config.out_dir / "meta").rglob("insights/*.jsonl"):
        for row in read_jsonl(path):
            clicks[row["ad_id"]][0] += int(row["clicks"])
            clicks[row["ad_id"]][1] += int(row["impressions"])
    rates = sorted(c / i for c, i in clicks.values() if i > 500)
    assert len(rates) >= 4
    assert rates[-1] > 2.5 * rates[0]


def test_ad_statuses_change_over_time(world: BuiltWorld) -> None:
    meta = [
        line
        for path in (world.config.out_dir / "meta").rglob("ads.jsonl")
        for line in read_jsonl(path)
    ]
    effective = {status[2] for line in meta for status in line["history"]}
    assert {"ACTIVE", "PAUSED", "CAMPAIGN_PAUSED"} <= effective
    tiktok = [
        line
        for path in (world.config.out_dir / "tiktok").rglob("ads.jsonl")
        for line in read_jsonl(path)
    ]
    assert {"ENABLE", "DISABLE"} <= {status[1] for line in tiktok for status in line["history"]}


def test_offers_cover_the_required_currencies_and_intervals() -> None:
    assert {o.currency for o in OFFERS_BY_KEY.values()} == {"usd", "jpy", "kwd"}
    assert {o.interval for o in OFFERS_BY_KEY.values()} == {None, "week", "month", "year"}


# Wire shapes --------------------------------------------------------------------------------

needs_fixtures = pytest.mark.skipif(not FIXTURES.exists(), reason=f"no fixtures at {FIXTURES}")
# Attribution-window keys appear per action only when that window has a value.
WINDOWS = ("7d_click", "1d_view")
ACTION_LISTS = ("actions", "action_values", "cost_per_action_type", "video_play_actions")
META_OPTIONAL = frozenset(
    {"cpc", *ACTION_LISTS[:3]} | {f"{lst}.{w}" for lst in ACTION_LISTS for w in WINDOWS}
)
META_EXTRA = frozenset({"video_play_actions"})


@needs_fixtures
def test_meta_insights_rows_have_the_fixture_shape(world: BuiltWorld) -> None:
    fixture_rows = [
        *load_fixture("meta", "insights_page1.json")["data"],
        *load_fixture("meta", "insights_page2.json")["data"],
    ]
    template: dict[str, Any] = {}  # every key any fixture row shows; action lists pooled
    for fixture_row in fixture_rows:
        for key, value in fixture_row.items():
            if isinstance(value, list) and key in template:
                template[key] = template[key] + value
            else:
                template.setdefault(key, value)
    for path in (world.config.out_dir / "meta").rglob("insights/*.jsonl"):
        for row in read_jsonl(path):
            assert shape_errors(row, template, optional=META_OPTIONAL, extra=META_EXTRA) == []
            assert row["date_start"] == row["date_stop"] == path.stem
            if row["clicks"] == "0":
                assert "cpc" not in row
            purchase = {a["action_type"]: a["value"] for a in row.get("actions", [])}
            overlapping = [
                purchase.get(t)
                for t in ("omni_purchase", "purchase", "offsite_conversion.fb_pixel_purchase")
            ]
            assert len(set(overlapping)) == 1


@needs_fixtures
def test_tiktok_report_rows_have_the_fixture_shape(world: BuiltWorld) -> None:
    template = load_fixture("tiktok", "report_integrated_page1.json")["data"]["list"][0]
    extra = frozenset({"metrics.currency", "metrics.total_complete_payment_rate"})
    for path in (world.config.out_dir / "tiktok").rglob("report/*.jsonl"):
        for row in read_jsonl(path):
            assert shape_errors(row, template, extra=extra) == []
            assert row["dimensions"]["stat_time_day"] == f"{path.stem} 00:00:00"
            assert 16 <= len(row["dimensions"]["ad_id"]) <= 19


@needs_fixtures
def test_display_videos_have_the_fixture_shape(world: BuiltWorld) -> None:
    template = load_fixture("tiktok", "video_list_page1.json")["data"]["videos"][0]
    counters = {"view_count", "like_count", "comment_count", "share_count"}
    for line in read_jsonl(world.files.tiktok_videos):
        video = dict(line["video"], **dict.fromkeys(counters, 0))
        assert shape_errors(video, template) == []


@needs_fixtures
def test_meta_ads_have_the_fixture_shape(world: BuiltWorld) -> None:
    from acd_sample_world.fake_apis.server import SampleWorld

    template = load_fixture("meta", "ads.json")["data"][0]
    served = SampleWorld(world.config.out_dir)
    account = world.manifest["accounts"]["meta_ad_account_ids"][0]
    reply = served.handle("GET", f"/meta/v21.0/{account}/ads?access_token=t&limit=500", {}, b"", "")
    assert reply.body["data"]
    for ad in reply.body["data"]:
        assert shape_errors(ad, template) == []
        assert ad["updated_time"].endswith("+0000")


STRIPE_FIXTURES = {
    "customers": "customer.json",
    "products": "product.json",
    "prices": "price.json",
    "subscriptions": "subscription.json",
    "invoices": "invoice.json",
    "charges": "charge.json",
    "refunds": "refund.json",
}
STRIPE_EXTRA = frozenset({"lines.data.pricing.price_details"})


@needs_fixtures
@pytest.mark.parametrize("resource", sorted(STRIPE_FIXTURES))
def test_stripe_objects_have_the_fixture_shape(world: BuiltWorld, resource: str) -> None:
    template = load_fixture("stripe", STRIPE_FIXTURES[resource])
    objects = stripe_objects(world.config.out_dir, resource)
    assert objects
    for obj in objects:
        assert shape_errors(obj, template, extra=STRIPE_EXTRA) == []


@needs_fixtures
def test_stripe_events_have_the_fixture_shape(world: BuiltWorld) -> None:
    envelope = load_fixture("stripe", "event.json")
    updated = load_fixture("stripe", "event_customer_subscription_updated.json")
    templates = {
        name.removesuffix("s"): load_fixture("stripe", file)
        for name, file in STRIPE_FIXTURES.items()
    }
    for event in stripe_objects(world.config.out_dir, "events"):
        head = dict(event, data={"object": {}})
        assert shape_errors(head, dict(envelope, data={"object": {}})) == []
        obj = event["data"]["object"]
        assert shape_errors(obj, templates[obj["object"]], extra=STRIPE_EXTRA) == []
        if "previous_attributes" in event["data"]:
            assert event["type"].endswith((".updated", ".refunded"))
            assert json_keys_subset(event["data"]["previous_attributes"], obj)
    assert "previous_attributes" in updated["data"]


def json_keys_subset(previous: dict[str, Any], obj: dict[str, Any]) -> bool:
    return set(previous) <= set(obj)


@needs_fixtures
def test_stripe_list_files_page_like_the_fixture(world: BuiltWorld) -> None:
    from acd_sample_world.fake_apis.server import SampleWorld

    page = load_fixture("stripe", "list_customers_page1.json")
    served = SampleWorld(world.config.out_dir)
    reply = served.handle(
        "GET", "/stripe/v1/customers?limit=2", {"authorization": "Bearer sk_test_x"}, b"", ""
    )
    assert list(reply.body) == list(page)
    assert reply.body["url"] == "/v1/customers"
    assert shape_errors(reply.body, page) == []


def test_the_shape_comparer_catches_wrong_types_and_keys() -> None:
    fixture = {"a": "1", "b": {"c": 1, "d": None}, "e": [{"x": "1"}, {"y": True}], "m": {}}
    assert (
        shape_errors(
            {"a": "2", "b": {"c": 3, "d": "z"}, "e": [{"x": "2"}], "m": {"k": "v"}},
            fixture,
            optional=frozenset({"e.y"}),
        )
        == []
    )
    assert shape_errors({"a": 1, "b": {"c": 1, "d": 1}, "e": [], "m": {}}, fixture) == [
        "$.a: integer where the fixture has string"
    ]
    assert shape_errors({"a": "1", "b": {"c": 1}, "e": [{"z": "1"}], "m": {}}, fixture) == [
        "$.b.d: missing",
        "$.e.x: missing",
        "$.e.y: missing",
        "$.e.z: not in the fixture",
    ]
