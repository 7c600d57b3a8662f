"""Stripe connector: the official SDK over real HTTP to a local fake, on both warehouses."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fakes import FakeClock, FakeStripe, payload, query, raw_snapshot, stripe_fault, stripe_object

from ingest._common.errors import MalformedPage
from ingest._common.secrets import Secret
from ingest.stripe import StripeConfig, ingest_stripe
from ingest.stripe.client import StripeApi

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
T0 = int((NOW - timedelta(days=2)).timestamp())


def make_world() -> FakeStripe:
    customers = [
        stripe_object("customer", id=f"cus_{i:03d}", created=T0 - i * 60) for i in range(10)
    ]
    sub = stripe_object("subscription", id="sub_many", created=T0 - 100)
    items = [
        {**copy.deepcopy(sub["items"]["data"][0]), "id": f"si_{i}", "subscription": "sub_many"}
        for i in range(3)
    ]
    sub["items"] = {
        "object": "list",
        "data": items[:1],
        "has_more": True,
        "url": "/v1/subscription_items?subscription=sub_many",
    }
    sub_small = stripe_object("subscription", id="sub_small", created=T0 - 200)
    invoice = stripe_object("invoice", id="in_many", created=T0 - 50)
    lines = [
        {**copy.deepcopy(invoice["lines"]["data"][0]), "id": f"il_{i}", "invoice": "in_many"}
        for i in range(3)
    ]
    invoice["lines"] = {
        "object": "list",
        "data": lines[:1],
        "has_more": True,
        "url": "/v1/invoices/in_many/lines",
    }
    jpy = stripe_object(
        "charge", id="ch_jpy", amount=500, amount_captured=500, currency="jpy", created=T0 - 10
    )
    usd = stripe_object("charge", id="ch_usd", amount=2000, currency="usd", created=T0 - 20)
    event = stripe_object("event", id="evt_0", created=T0)
    api = FakeStripe(
        {
            "products": [
                stripe_object("product", id=f"prod_{i}", created=T0 - i) for i in range(2)
            ],
            "prices": [stripe_object("price", id="price_1", created=T0)],
            "customers": customers,
            "subscriptions": [sub, sub_small],
            "invoices": [invoice],
            "charges": [jpy, usd],
            "refunds": [stripe_object("refund", id="re_1", created=T0 - 5)],
            "events": [event],
        }
    )
    api.sub_items = {"sub_many": items, "sub_small": sub_small["items"]["data"]}
    api.invoice_lines = {"in_many": lines}
    return api


@pytest.fixture
def api() -> Iterator[FakeStripe]:
    fake = make_world()
    fake.base_url = fake.start()  # type: ignore[attr-defined]
    yield fake
    fake.stop()


def run(api: FakeStripe, writer: Any, clock: FakeClock | None = None) -> FakeClock:
    clock = clock or FakeClock(NOW)
    config = StripeConfig(
        api_key=Secret("sk_test_secret"),
        base_url=api.base_url,
        page_limit=2,  # type: ignore[attr-defined]
    )
    ingest_stripe(config, writer, clock=clock)
    return clock


def ids(warehouse: Any, table: str) -> list[str]:
    return [r[0] for r in query(warehouse, f"select id from raw_stripe.{table} order by id")]


def test_full_sync_loads_everything_and_rerun_changes_nothing(warehouse, writer, api) -> None:
    run(api, writer)
    assert len(ids(warehouse, "customers")) == 10
    assert ids(warehouse, "subscriptions") == ["sub_many", "sub_small"]
    items = query(warehouse, "select id, subscription_id from raw_stripe.subscription_items")
    assert sorted(items) == [
        ("si_0", "sub_many"),
        ("si_1", "sub_many"),
        ("si_2", "sub_many"),
        ("si_Q3nX5cVbR2aKtE", "sub_small"),
    ]
    assert sorted(query(warehouse, "select id from raw_stripe.invoice_line_items")) == [
        ("il_0",),
        ("il_1",),
        ("il_2",),
    ]
    assert ids(warehouse, "products") == ["prod_0", "prod_1"]
    assert ids(warehouse, "refunds") == ["re_1"]
    (jpy,) = query(warehouse, "select payload from raw_stripe.charges where id = 'ch_jpy'")
    assert payload(jpy[0])["amount"] == 500 and payload(jpy[0])["currency"] == "jpy"
    created = query(warehouse, "select created from raw_stripe.customers where id = 'cus_000'")
    assert created == [(datetime.fromtimestamp(T0, UTC),)]
    state = query(warehouse, "select stream from raw_stripe._sync_state")
    assert state == [("events",)]

    before = raw_snapshot(warehouse, "raw_stripe")
    requests_before = len(api.requests)
    run(api, writer)
    assert raw_snapshot(warehouse, "raw_stripe") == before
    assert all(path == "/v1/events" for path in api.paths()[requests_before:])


def test_updated_subscription_arrives_through_events(warehouse, writer, api) -> None:
    run(api, writer)
    updated = copy.deepcopy(api.lists["subscriptions"][1])
    updated["status"] = "canceled"
    event = stripe_object(
        "event",
        id="evt_1",
        created=T0 + 3600,
        type="customer.subscription.updated",
        data={"object": updated, "previous_attributes": {"status": "active"}},
    )
    api.lists["events"].insert(0, event)
    run(api, writer)
    (row,) = query(warehouse, "select payload from raw_stripe.subscriptions where id = 'sub_small'")
    assert payload(row[0])["status"] == "canceled"
    assert ids(warehouse, "events") == ["evt_1"]
    assert "/v1/customers" not in api.paths()[-3:]


def test_cursor_older_than_event_retention_triggers_full_resync(warehouse, writer, api) -> None:
    run(api, writer)
    api.lists["customers"].insert(0, stripe_object("customer", id="cus_new", created=T0 + 10))
    count = len(api.requests)
    run(api, writer, FakeClock(NOW + timedelta(days=31)))
    assert "/v1/customers" in api.paths()[count:]
    assert "cus_new" in ids(warehouse, "customers")


def test_rate_limit_429_waits_then_completes(warehouse, writer, api) -> None:
    api.faults[4] = stripe_fault(429, {"Stripe-Should-Retry": "true"})
    clock = run(api, writer)
    assert len(clock.sleeps) == 1 and 0.5 <= clock.sleeps[0] <= 1.0
    assert len(ids(warehouse, "customers")) == 10


def test_server_error_on_page_3_of_5_then_success(warehouse, writer, api) -> None:
    # requests: 1 events baseline, 2 products, 3 prices, 4..8 customers pages 1..5
    api.faults[6] = stripe_fault(500)
    clock = run(api, writer)
    assert len(clock.sleeps) == 1
    customers = ids(warehouse, "customers")
    assert len(customers) == 10 == len(set(customers))


def test_crash_after_page_3_resumes_at_page_4(warehouse, writer, api, monkeypatch) -> None:
    original = StripeApi.list_page
    calls: list[str] = []

    def crashing(self: StripeApi, stream: str, params: dict[str, Any], page: str) -> Any:
        if stream == "customers":
            calls.append(page)
            if len(calls) == 4:
                raise RuntimeError("injected crash")
        return original(self, stream, params, page)

    monkeypatch.setattr(StripeApi, "list_page", crashing)
    with pytest.raises(RuntimeError, match="injected crash"):
        run(api, writer)
    assert len(ids(warehouse, "customers")) == 6
    monkeypatch.setattr(StripeApi, "list_page", original)
    count = len(api.requests)
    run(api, writer)
    customer_queries = [q for p, q in api.requests[count:] if p == "/v1/customers"]
    assert customer_queries[0]["starting_after"] == "cus_005"  # resumed, not restarted
    assert len(customer_queries) == 2
    assert len(ids(warehouse, "customers")) == 10
    assert query(warehouse, "select stream from raw_stripe._sync_state") == [("events",)]


def test_malformed_page_names_page_and_field_and_writes_nothing_of_it(
    warehouse, writer, api
) -> None:
    api.faults[5] = lambda path, q: (200, {}, {"object": "list", "has_more": True, "url": path})
    with pytest.raises(MalformedPage, match="stripe customers page 2: field 'data' is missing"):
        run(api, writer)
    assert len(ids(warehouse, "customers")) == 2
    api.faults[len(api.requests) + 1] = lambda path, q: (
        200,
        {},
        {
            "object": "list",
            "has_more": False,
            "url": path,
            "data": [{"id": "cus_x", "created": "yesterday"}],
        },
    )
    with pytest.raises(MalformedPage, match=r"field 'data\[0\]\.created' should be epoch"):
        run(api, writer)
    assert "cus_x" not in ids(warehouse, "customers")
