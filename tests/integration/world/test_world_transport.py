"""The sample transport serves a world like the live APIs: paging, filters, clock, errors.

Driven with httpx and, for Stripe, the official `stripe` SDK (auto-paging).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from acd_sample_world.fake_apis.server import SampleWorldServer
from acd_sample_world.store import read_jsonl

from tests.unit.world.world_checks import BuiltWorld, build

TOKEN = {"access_token": "EAAB-sample"}
TIKTOK_HEADERS = {"Access-Token": "tt-sample"}
REPORT = {
    "report_type": "BASIC",
    "data_level": "AUCTION_AD",
    "dimensions": json.dumps(["ad_id", "stat_time_day"]),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> BuiltWorld:
    return build(tmp_path_factory.mktemp("served-world"), users=120, days=10, seed=21)


@pytest.fixture
def server(world: BuiltWorld) -> Iterator[SampleWorldServer]:
    with SampleWorldServer(world.config.out_dir) as served:
        yield served


def _range(world: BuiltWorld) -> str:
    start, end = world.config.start_date.isoformat(), world.config.end_date.isoformat()
    return json.dumps({"since": start, "until": end})


def _meta_account(world: BuiltWorld) -> str:
    return str(world.manifest["accounts"]["meta_ad_account_ids"][0])


def _advertiser(world: BuiltWorld) -> str:
    return str(world.manifest["accounts"]["tiktok_advertiser_ids"][0])


def _follow_meta(url: str, params: dict[str, str] | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    pages = 0
    while True:
        response = httpx.get(url, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        rows += body["data"]
        pages += 1
        if "next" not in body.get("paging", {}):
            return rows
        assert "access_token=" in body["paging"]["next"]
        url, params = body["paging"]["next"], None
        assert pages < 1000


# Meta -------------------------------------------------------------------------------------


def test_meta_insights_page_through_every_row_of_the_range(
    server: SampleWorldServer, world: BuiltWorld
) -> None:
    account = _meta_account(world)
    url = f"{server.meta_api_base_url}/{account}/insights"
    params = {
        **TOKEN,
        "level": "ad",
        "time_increment": "1",
        "time_range": _range(world),
        "limit": "7",
        "filtering": json.dumps(
            [
                {
                    "field": "ad.effective_status",
                    "operator": "IN",
                    "value": [
                        "ACTIVE",
                        "PAUSED",
                        "CAMPAIGN_PAUSED",
                        "WITH_ISSUES",
                        "ARCHIVED",
                        "DELETED",
                    ],
                }
            ]
        ),
    }
    rows = _follow_meta(url, params)
    on_disk = [
        row
        for path in sorted((world.config.out_dir / "meta").rglob("insights/*.jsonl"))
        for row in read_jsonl(path)
    ]
    assert rows == on_disk
    assert len({(r["ad_id"], r["date_start"]) for r in rows}) == len(rows) > 14


def test_meta_insights_honour_fields_dates_and_the_clock(
    server: SampleWorldServer, world: BuiltWorld
) -> None:
    account = _meta_account(world)
    day = world.config.day(3).isoformat()
    params = {
        **TOKEN,
        "time_range": json.dumps({"since": day, "until": day}),
        "limit": "500",
        "fields": "ad_id,spend,actions",
    }
    rows = httpx.get(f"{server.meta_api_base_url}/{account}/insights", params=params).json()
    assert rows["data"] and {r["date_start"] for r in rows["data"]} == {day}
    assert all(
        set(r) <= {"ad_id", "spend", "actions", "date_start", "date_stop"} for r in rows["data"]
    )
    assert "paging" in rows and "next" not in rows["paging"]
    server.now = datetime.fromisoformat(day).replace(tzinfo=UTC) + timedelta(hours=10)
    today = httpx.get(f"{server.meta_api_base_url}/{account}/insights", params=params).json()
    assert today == {"data": []}  # the current day is not complete yet


def test_meta_ads_show_the_status_as_of_the_clock(
    server: SampleWorldServer, world: BuiltWorld
) -> None:
    account = _meta_account(world)
    lines = read_jsonl(world.config.out_dir / "meta" / account / "ads.jsonl")
    changing = next(line for line in lines if len(line["history"]) >= 2)
    (first_at, _, first), (second_at, _, second) = changing["history"][:2]
    everything = json.dumps(
        [
            {
                "field": "effective_status",
                "operator": "IN",
                "value": ["ACTIVE", "PAUSED", "ARCHIVED", "CAMPAIGN_PAUSED", "WITH_ISSUES"],
            }
        ]
    )
    params = {
        **TOKEN,
        "limit": "500",
        "filtering": everything,
        "fields": "id,name,effective_status,creative{id},updated_time",
    }

    def status_at(moment: int) -> dict[str, Any]:
        server.now = datetime.fromtimestamp(moment, UTC)
        ads = _follow_meta(f"{server.meta_api_base_url}/{account}/ads", params)
        return next(ad for ad in ads if ad["id"] == changing["ad"]["id"])

    assert status_at(first_at)["effective_status"] == first
    later = status_at(second_at + 60)
    assert later["effective_status"] == second
    assert set(later) == {"id", "name", "effective_status", "creative", "updated_time"}
    server.now = datetime.fromtimestamp(first_at - 1, UTC)
    ads = _follow_meta(f"{server.meta_api_base_url}/{account}/ads", params)
    assert changing["ad"]["id"] not in {ad["id"] for ad in ads}  # not created yet


def test_meta_hides_archived_ads_unless_filtered_for(
    server: SampleWorldServer, world: BuiltWorld
) -> None:
    account = _meta_account(world)
    lines = read_jsonl(world.config.out_dir / "meta" / account / "ads.jsonl")
    archived = {line["ad"]["id"] for line in lines if line["history"][-1][2] == "ARCHIVED"}
    default = _follow_meta(f"{server.meta_api_base_url}/{account}/ads", {**TOKEN, "limit": "5"})
    assert len(default) == len(lines) - len(archived)
    if archived:
        only = json.dumps([{"field": "effective_status", "operator": "IN", "value": ["ARCHIVED"]}])
        listed = _follow_meta(
            f"{server.meta_api_base_url}/{account}/ads", {**TOKEN, "filtering": only}
        )
        assert {ad["id"] for ad in listed} == archived


def test_meta_errors_have_the_graph_api_shape(server: SampleWorldServer, world: BuiltWorld) -> None:
    account = _meta_account(world)
    missing = httpx.get(f"{server.meta_api_base_url}/{account}/insights")
    assert missing.status_code == 400 and missing.json()["error"]["code"] == 104
    unknown = httpx.get(f"{server.meta_api_base_url}/act_1/insights", params=TOKEN)
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == 100
    throttle = {
        "error": {
            "message": "User request limit reached",
            "type": "OAuthException",
            "code": 17,
            "error_subcode": 2446079,
            "fbtrace_id": "x",
        }
    }
    server.inject("meta", 400, throttle, headers={"x-ad-account-usage": "{}"}, times=2)
    for _ in range(2):
        response = httpx.get(f"{server.meta_api_base_url}/{account}/ads", params=TOKEN)
        assert response.status_code == 400 and response.json() == throttle
    assert httpx.get(f"{server.meta_api_base_url}/{account}/ads", params=TOKEN).status_code == 200


# TikTok -----------------------------------------------------------------------------------


def test_tiktok_report_pages_cover_the_range_once(
    server: SampleWorldServer, world: BuiltWorld
) -> None:
    advertiser = _advertiser(world)
    metrics = ["campaign_id", "spend", "impressions", "clicks", "currency", "conversion"]
    base = {
        **REPORT,
        "advertiser_id": advertiser,
        "metrics": json.dumps(metrics),
        "start_date": world.config.start_date.isoformat(),
        "end_date": world.config.end_date.isoformat(),
        "page_size": "25",
    }
    rows: list[dict[str, Any]] = []
    page, total_page = 1, 1
    while page <= total_page:
        body = httpx.get(
            f"{server.tiktok_api_base_url}/report/integrated/get/",
            params={**base, "page": str(page)},
            headers=TIKTOK_HEADERS,
        ).json()
        assert body["code"] == 0 and body["message"] == "OK" and body["request_id"]
        info = body["data"]["page_info"]
        assert info["page"] == page and info["page_size"] == 25
        total_page = info["total_page"]
        rows += body["data"]["list"]
        page += 1
    on_disk = [
        row
        for path in sorted((world.config.out_dir / "tiktok").rglob("report/*.jsonl"))
        for row in read_jsonl(path)
    ]
    assert len(rows) == len(on_disk) == info["total_number"]
    assert [r["dimensions"] for r in rows] == [r["dimensions"] for r in on_disk]
    assert all(list(r["metrics"]) == metrics for r in rows)
    assert all(isinstance(v, str) for r in rows for v in r["metrics"].values())


def test_tiktok_errors_come_with_http_200_and_a_code(
    server: SampleWorldServer, world: BuiltWorld
) -> None:
    url = f"{server.tiktok_api_base_url}/report/integrated/get/"
    params = {
        **REPORT,
        "advertiser_id": _advertiser(world),
        "start_date": "2024-01-01",
        "end_date": "2024-03-01",
        "metrics": json.dumps(["spend"]),
    }
    too_long = httpx.get(url, params=params, headers=TIKTOK_HEADERS)
    assert too_long.status_code == 200 and too_long.json()["code"] == 40002
    assert httpx.get(url, params=params).json()["code"] == 40104
    bearer = httpx.get(url, params=params, headers={"Access-Token": "Bearer x"})
    assert bearer.json()["code"] == 40105


def test_tiktok_ads_have_the_operation_status_of_the_moment(
    server: SampleWorldServer, world: BuiltWorld
) -> None:
    advertiser = _advertiser(world)
    lines = read_jsonl(world.config.out_dir / "tiktok" / advertiser / "ads.jsonl")
    changing = next((line for line in lines if len(line["history"]) >= 2), None)
    if changing is None:
        pytest.skip("no TikTok ad changed status in this small world")
    (first_at, first, _), (second_at, second, _) = changing["history"][:2]
    for moment, expected in ((first_at, first), (second_at, second)):
        server.now = datetime.fromtimestamp(moment, UTC)
        body = httpx.get(
            f"{server.tiktok_api_base_url}/ad/get/",
            params={"advertiser_id": advertiser, "page_size": "1000"},
            headers=TIKTOK_HEADERS,
        ).json()
        ad = next(a for a in body["data"]["list"] if a["ad_id"] == changing["ad"]["ad_id"])
        assert ad["operation_status"] == expected


def test_display_video_list_pages_by_cursor_with_counters_as_of_now(
    server: SampleWorldServer, world: BuiltWorld
) -> None:
    url = f"{server.tiktok_display_api_base_url}/video/list/"
    fields = {
        "fields": "id,title,create_time,duration,view_count,like_count,comment_count,share_count"
    }
    headers = {"Authorization": "Bearer display-sample"}

    def all_videos() -> list[dict[str, Any]]:
        videos, cursor = [], None
        while True:
            request: dict[str, Any] = {"max_count": 4}
            if cursor is not None:
                request["cursor"] = cursor
            body = httpx.post(url, params=fields, headers=headers, json=request).json()
            assert body["error"]["code"] == "ok"
            videos += body["data"]["videos"]
            cursor = body["data"]["cursor"]
            if not body["data"]["has_more"]:
                return videos

    final = all_videos()
    assert len(final) == len(read_jsonl(world.files.tiktok_videos))
    times = [video["create_time"] for video in final]
    assert times == sorted(times, reverse=True) and len(set(v["id"] for v in final)) == len(final)
    server.now = world.config.end - timedelta(days=3, hours=5)
    earlier = {video["id"]: video for video in all_videos()}
    assert len(earlier) < len(final)
    grew = 0
    for video in final:
        if video["id"] in earlier:
            assert video["view_count"] >= earlier[video["id"]]["view_count"]
            grew += video["view_count"] > earlier[video["id"]]["view_count"]
    assert grew > 0
    bad = httpx.post(url, params=fields, headers=headers, json={"max_count": 21})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_params"
    assert httpx.post(url, params=fields, json={"max_count": 4}).status_code == 401


# Stripe -----------------------------------------------------------------------------------


def _stripe_count(world: BuiltWorld, resource: str) -> int:
    path: Path = world.files.stripe_index(resource)
    return len(path.read_text().splitlines())


def test_the_stripe_sdk_auto_pages_every_list(server: SampleWorldServer, world: BuiltWorld) -> None:
    client = stripe.StripeClient(
        "sk_test_sample", base_addresses={"api": server.stripe_api_base_url}
    )
    customers = list(client.v1.customers.list(params={"limit": 3}).auto_paging_iter())
    assert len(customers) == _stripe_count(world, "customers") > 3
    assert len({c.id for c in customers}) == len(customers)
    assert [c.created for c in customers] == sorted((c.created for c in customers), reverse=True)
    charges = list(client.v1.charges.list(params={"limit": 100}).auto_paging_iter())
    assert len(charges) == _stripe_count(world, "charges")
    subs_all = list(
        client.v1.subscriptions.list(params={"limit": 5, "status": "all"}).auto_paging_iter()
    )
    subs_default = list(client.v1.subscriptions.list(params={"limit": 5}).auto_paging_iter())
    assert len(subs_all) == _stripe_count(world, "subscriptions")
    assert {s.id for s in subs_default} == {s.id for s in subs_all if s.status != "canceled"}
    assert len(subs_default) < len(subs_all)


def test_stripe_events_honour_created_gt_and_the_30_day_window(
    server: SampleWorldServer, world: BuiltWorld
) -> None:
    client = stripe.StripeClient(
        "sk_test_sample", base_addresses={"api": server.stripe_api_base_url}
    )
    events = list(client.v1.events.list(params={"limit": 100}).auto_paging_iter())
    oldest = int((world.config.end - timedelta(days=30)).timestamp())
    assert events and all(event.created >= oldest for event in events)
    middle = events[len(events) // 2].created
    newer = list(
        client.v1.events.list(params={"limit": 10, "created": {"gt": middle}}).auto_paging_iter()
    )
    assert newer and all(event.created > middle for event in newer)
    assert len(newer) == sum(1 for event in events if event.created > middle)


def test_stripe_nested_lists_errors_and_clock(server: SampleWorldServer, world: BuiltWorld) -> None:
    auth = {"Authorization": "Bearer sk_test_sample"}
    base = server.stripe_api_base_url
    invoice = read_jsonl(world.files.stripe("invoices"))[0]
    lines = httpx.get(f"{base}/v1/invoices/{invoice['id']}/lines", headers=auth).json()
    assert lines["object"] == "list" and lines["data"] == invoice["lines"]["data"]
    sub = read_jsonl(world.files.stripe("subscriptions"))[0]
    items = httpx.get(
        f"{base}/v1/subscription_items", params={"subscription": sub["id"]}, headers=auth
    ).json()
    assert items["data"] == sub["items"]["data"]
    assert items["url"] == f"/v1/subscription_items?subscription={sub['id']}"
    assert httpx.get(f"{base}/v1/customers").status_code == 401
    too_many = httpx.get(f"{base}/v1/customers", params={"limit": 101}, headers=auth)
    assert too_many.status_code == 400 and too_many.json()["error"]["param"] == "limit"
    server.now = world.config.start + timedelta(days=2)
    early = httpx.get(f"{base}/v1/charges", params={"limit": 100}, headers=auth).json()
    assert all(charge["created"] <= server.now.timestamp() for charge in early["data"])
    assert len(early["data"]) < _stripe_count(world, "charges")
    server.inject(
        "stripe",
        429,
        {"error": {"type": "rate_limit_error", "message": "slow down"}},
        headers={"Stripe-Should-Retry": "true"},
    )
    assert httpx.get(f"{base}/v1/customers", headers=auth).status_code == 429
    assert httpx.get(f"{base}/v1/customers", headers=auth).status_code == 200
