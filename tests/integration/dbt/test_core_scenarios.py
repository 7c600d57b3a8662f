"""Hand-built scenarios for the dbt core (docs/METRICS.md, Identity to Attribution): events go through the SDK, Stripe
objects straight into raw_stripe; `dbt build` runs once per backend for the whole module and
the tests assert exact identities, funnel counts and attribution credits per model."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from acd_analytics import Client
from acd_analytics.warehouse_url import WarehouseTarget

from tests.conftest import BACKENDS, PerBackend, pick_backend
from tests.integration.dbt.conftest import CORE_MARTS, RUN_STAMP_COLUMNS, dbt_in, eid, query
from warehouse_db.connection import connect

pytestmark = pytest.mark.slow

T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
MODELS = ("first_touch", "last_touch", "linear", "position_based", "time_decay")


def meta(name: str = "camp_meta", ad: str = "ad_meta") -> dict[str, Any]:
    return {"campaign": {"source": "facebook", "medium": "paid", "name": name, "content": ad}}


def url(query_string: str) -> dict[str, Any]:
    """A context whose campaign is only in page.url (docs/REFERENCE.md, Context)."""
    return {"page": {"url": f"https://example.com/landing?{query_string}", "path": "/landing"}}


# Each event: (event_id n, name, product, occurred_at, user_id, anonymous_id, properties, context)
EVENTS: list[
    tuple[int, str, str, datetime, str | None, str | None, dict[str, Any], dict[str, Any]]
] = [
    # Alice: google visit 28 d + 1 s before her purchase (outside), meta visit exactly 28 d
    # before (inside), a waitlist, a TikTok visit, signup (claims a_alice), purchase (Stripe charge).
    (
        101,
        "page_viewed",
        "portal28",
        T0 - 28 * DAY - SECOND,
        None,
        "a_alice",
        {},
        url("utm_source=google&utm_campaign=camp_g&utm_content=ad_g"),
    ),
    (102, "page_viewed", "portal28", T0 - 28 * DAY, None, "a_alice", {}, meta()),
    (
        103,
        "waitlist_joined",
        "waitlistlab",
        T0 - 10 * DAY,
        None,
        "a_alice",
        {"waitlist_id": "w1"},
        {},
    ),
    (
        104,
        "page_viewed",
        "content-factory",
        T0 - 7 * DAY,
        None,
        "a_alice",
        {},
        url("utm_source=tiktok&utm_campaign=camp_tt&utm_content=ad_tt&ttclid=x1"),
    ),
    (
        105,
        "signup_completed",
        "portal28",
        T0 - 2 * DAY,
        "u_alice",
        "a_alice",
        {"method": "email"},
        {},
    ),
    (
        106,
        "purchase_completed",
        "content-factory",
        T0,
        "u_alice",
        None,
        {"revenue": 10, "currency": "USD", "stripe_charge_id": "ch_usd"},
        {},
    ),
    # Bob: a purchase with no touchpoint (direct), valued from his Stripe invoice.
    (
        201,
        "purchase_completed",
        "pct",
        T0,
        "u_bob",
        None,
        {"revenue": 1, "currency": "USD", "stripe_invoice_id": "in_bob"},
        {},
    ),
    # Carol: five touchpoints, two of them at the same instant (ordered by event_id), claimed
    # through an alias; her purchase names a JPY charge (zero-decimal currency).
    (
        301,
        "page_viewed",
        "portal28",
        T0 - 5 * DAY,
        None,
        "a_carol",
        {},
        {"campaign": {"fbclid": "fb1"}},
    ),
    (
        302,
        "page_viewed",
        "portal28",
        T0 - 5 * DAY,
        None,
        "a_carol",
        {},
        {"campaign": {"ttclid": "tt1"}},
    ),
    (303, "page_viewed", "portal28", T0 - 4 * DAY, None, "a_carol", {}, url("gclid=g1")),
    (
        304,
        "page_viewed",
        "portal28",
        T0 - 3 * DAY,
        None,
        "a_carol",
        {},
        url("utm_source=newsletter&utm_medium=email"),
    ),
    (305, "page_viewed", "portal28", T0 - 1 * DAY, None, "a_carol", {}, url("utm_source=partner")),
    (
        306,
        "alias",
        "portal28",
        T0 - 2 * 3600 * SECOND,
        "u_carol",
        None,
        {"previous_id": "a_carol"},
        {},
    ),
    (
        307,
        "purchase_completed",
        "portal28",
        T0,
        "u_carol",
        None,
        {"revenue": 5, "currency": "JPY", "stripe_charge_id": "ch_jpy"},
        {},
    ),
    # Dave: blocked identifiers are never identifiers.
    (401, "page_viewed", "portal28", T0 - 1 * DAY, "guest", "a_dave", {}, {}),
    (402, "page_viewed", "portal28", T0 - 1 * DAY, "Undefined", "-1", {}, {}),
    # Eve and Frank: the first user to claim an anonymous id keeps it; user ids never merge.
    (501, "page_viewed", "pct", T0 - 4 * DAY, None, "a_shared", {}, {}),
    (502, "signup_completed", "pct", T0 - 3 * DAY, "u_eve", "a_shared", {"method": "google"}, {}),
    (503, "signup_completed", "pct", T0 - 2 * DAY, "u_frank", "a_shared", {"method": "google"}, {}),
    (504, "alias", "pct", T0 - 1 * DAY, "u_frank", None, {"previous_id": "u_eve"}, {}),
    (
        505,
        "identify",
        "pct",
        T0 - 1 * DAY,
        "u_frank",
        None,
        {"traits": {"email": "Frank@Example.com"}},
        {},
    ),
    # Gina: funnel window edges — waitlist exactly 30 d after entry (in), signup 1 s later (out).
    (
        601,
        "page_viewed",
        "waitlistlab",
        T0 - 40 * DAY,
        "u_gina",
        None,
        {},
        meta("camp_g2", "ad_g2"),
    ),
    (
        602,
        "waitlist_joined",
        "waitlistlab",
        T0 - 10 * DAY,
        "u_gina",
        None,
        {"waitlist_id": "w1"},
        {},
    ),
    (
        603,
        "signup_completed",
        "portal28",
        T0 - 10 * DAY + SECOND,
        "u_gina",
        None,
        {"method": "email"},
        {},
    ),
    # Hank: funnel order — his signup comes before the waitlist, so only steps 1 and 2 count.
    (701, "page_viewed", "portal28", T0 - 6 * DAY, "u_hank", None, {}, meta()),
    (702, "signup_completed", "portal28", T0 - 5 * DAY, "u_hank", None, {"method": "email"}, {}),
    (
        703,
        "waitlist_joined",
        "waitlistlab",
        T0 - 4 * DAY,
        "u_hank",
        None,
        {"waitlist_id": "w1"},
        {},
    ),
    # Ivy: Content Factory activation across products (publishing happens in MediaPoster).
    (
        801,
        "signup_completed",
        "content-factory",
        T0 - 1 * DAY,
        "u_ivy",
        None,
        {"method": "email"},
        {},
    ),
    (
        802,
        "video_generated",
        "content-factory",
        T0 - 12 * 3600 * SECOND,
        "u_ivy",
        None,
        {"duration_s": 30, "template": "t1"},
        {},
    ),
    (
        803,
        "content_published",
        "mediaposter",
        T0 - 1 * 3600 * SECOND,
        "u_ivy",
        None,
        {"platform": "tiktok", "post_id": "p1"},
        {},
    ),
]

USERS = [
    ("u_alice", "alice@example.com", None),
    ("u_bob", "bob@example.com", "cus_bob"),
    ("u_carol", "carol@example.com", None),
]

# (table, id, payload): amounts in minor units (docs/METRICS.md, Conventions).
STRIPE = [
    (
        "charges",
        "ch_usd",
        {
            "id": "ch_usd",
            "object": "charge",
            "amount": 19700,
            "amount_refunded": 5000,
            "currency": "usd",
            "customer": "cus_alice",
            "paid": True,
            "refunded": False,
            "status": "succeeded",
            "created": 1740830400,
            "billing_details": {"email": "alice@example.com"},
        },
    ),
    (
        "refunds",
        "re_usd",
        {
            "id": "re_usd",
            "object": "refund",
            "amount": 5000,
            "charge": "ch_usd",
            "currency": "usd",
            "status": "succeeded",
            "created": 1740916800,
        },
    ),
    (
        "charges",
        "ch_jpy",
        {
            "id": "ch_jpy",
            "object": "charge",
            "amount": 29800,
            "amount_refunded": 0,
            "currency": "jpy",
            "customer": {"id": "cus_carol", "object": "customer"},
            "paid": True,
            "refunded": False,
            "status": "succeeded",
            "created": 1740830400,
        },
    ),
    (
        "charges",
        "ch_kwd",
        {
            "id": "ch_kwd",
            "object": "charge",
            "amount": 59500,
            "amount_refunded": 0,
            "currency": "KWD",
            "customer": None,
            "paid": True,
            "refunded": False,
            "status": "succeeded",
            "created": 1740830400,
        },
    ),
    # Carol's customer object: its own email (not normalized) is how she is found (docs/METRICS.md, Identity).
    (
        "customers",
        "cus_carol",
        {
            "id": "cus_carol",
            "object": "customer",
            "email": " Carol@Example.com ",
            "currency": "jpy",
            "created": 1740830400,
        },
    ),
    (
        "invoices",
        "in_bob",
        {
            "id": "in_bob",
            "object": "invoice",
            "customer": "cus_bob",
            "subscription": "sub_bob",
            "status": "paid",
            "currency": "usd",
            "amount_paid": 4900,
            "amount_due": 4900,
            "total": 4900,
            "created": 1740830400,
            "status_transitions": {"paid_at": 1740830460},
        },
    ),
]


# Ad reports (docs/METRICS.md, Ads): (platform, ad_id, day, campaign_id, spend, currency). Meta's camp_meta
# spends on T0's day and on a day without any conversion credited to it; TikTok's camp_tt on
# T0's day.
AD_SPEND = [
    ("meta", "ad_meta", "2025-03-01", "camp_meta", "30.00", "USD"),
    ("meta", "ad_meta", "2025-02-26", "camp_meta", "12.50", "USD"),
    ("tiktok", "ad_tt", "2025-03-01", "camp_tt", "49.000", "USD"),
]


def _write_ad_spend(conn: Any, json_cast: str) -> None:
    for platform, ad_id, day, campaign_id, spend, currency in AD_SPEND:
        if platform == "meta":
            payload = {
                "account_id": "act_1",
                "account_currency": currency,
                "campaign_id": campaign_id,
                "ad_id": ad_id,
                "date_start": day,
                "date_stop": day,
                "impressions": "1000",
                "clicks": "10",
                "spend": spend,
            }
            conn.execute(
                "insert into raw_meta.ads_insights (ad_id, date_start, account_id, payload, _account_id)"
                f" values ('{ad_id}', '{day}', 'act_1', cast('{json.dumps(payload)}' as {json_cast}),"
                " 'act_1')"
            )
        else:
            payload = {
                "dimensions": {"ad_id": ad_id, "stat_time_day": f"{day} 00:00:00"},
                "metrics": {
                    "campaign_id": campaign_id,
                    "currency": currency,
                    "spend": spend,
                    "impressions": "1000",
                    "clicks": "10",
                },
            }
            conn.execute(
                "insert into raw_tiktok.ad_reports (ad_id, stat_time_day, advertiser_id, payload, _account_id)"
                f" values ('{ad_id}', '{day}', 'adv_1', cast('{json.dumps(payload)}' as {json_cast}),"
                " 'adv_1')"
            )


def write_scenario(target: WarehouseTarget, spool_dir: Path) -> None:
    client = Client(target.url, sync_mode=True, spool_dir=spool_dir)
    for n, name, product, occurred_at, user_id, anonymous_id, properties, context in EVENTS:
        client.track(
            name,
            properties,
            user_id=user_id,
            anonymous_id=anonymous_id,
            product=product,
            occurred_at=occurred_at,
            event_id=eid(n),
            context=context,
        )
    client.flush()
    client.shutdown()
    json_cast = "jsonb" if target.backend == "postgres" else "json"
    with connect(target) as conn:
        for user_id, email, customer in USERS:
            customer_literal = f"'{customer}'" if customer else "null"
            conn.execute(
                "insert into shared_users (id, email, stripe_customer_id, created_at, updated_at)"
                f" values ('{user_id}', '{email}', {customer_literal},"
                " timestamp '2025-01-01 00:00:00', timestamp '2025-01-01 00:00:00')"
            )
        for table, object_id, payload in STRIPE:
            conn.execute(
                f"insert into raw_stripe.{table} (id, payload, _account_id)"
                f" values ('{object_id}', cast('{json.dumps(payload)}' as {json_cast}), 'acct_1')"
            )
        _write_ad_spend(conn, json_cast)


def run_dbt(target: WarehouseTarget, args: Sequence[str], work_dir: Path) -> str:
    return dbt_in(target, args, work_dir).stdout


CORE_SELECTOR = [
    "--select",
    "+core +marts.funnels +marts.attribution",
]


@pytest.fixture(scope="module")
def built_targets(
    session_warehouse: Callable[[str, Path], WarehouseTarget],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, WarehouseTarget]:
    """The scenario, written and built once per backend (lazily) for the whole module."""

    def build(backend: str) -> WarehouseTarget:
        work_dir = tmp_path_factory.mktemp(f"core_{backend}")
        target = session_warehouse(backend, work_dir)
        write_scenario(target, work_dir / "spool")
        run_dbt(target, ["build", *CORE_SELECTOR], work_dir)
        return target

    return PerBackend(build)


@pytest.fixture(params=BACKENDS)
def built(
    request: pytest.FixtureRequest, built_targets: dict[str, WarehouseTarget]
) -> WarehouseTarget:
    return pick_backend(request, built_targets)


# --- identity (docs/METRICS.md, Identity) ---------------------------------------------------------


def test_person_of_each_event(built: WarehouseTarget) -> None:
    persons = dict(query(built, "select event_id, person_id from marts.fct_events"))
    assert persons[eid(101)] == "u_alice"  # anonymous visit, claimed later by the signup
    assert persons[eid(301)] == "u_carol"  # claimed by alias
    assert persons[eid(401)] == "anon:a_dave"  # 'guest' is not a user id
    assert persons[eid(402)] is None  # 'Undefined' and '-1' are not identifiers
    assert persons[eid(501)] == "u_eve"  # Eve claimed a_shared first
    assert persons[eid(503)] == "u_frank"  # Frank keeps his own id
    assert persons[eid(504)] == "u_frank"  # an alias between two user ids merges nothing


def test_dim_persons(built: WarehouseTarget) -> None:
    rows = {
        row[0]: row[1:]
        for row in query(
            built,
            "select person_id, user_id, is_identified, email, stripe_customer_id, events, anonymous_ids"
            " from marts.dim_persons",
        )
    }
    assert set(rows) == {
        "u_alice",
        "u_bob",
        "u_carol",
        "anon:a_dave",
        "u_eve",
        "u_frank",
        "u_gina",
        "u_hank",
        "u_ivy",
    }
    assert rows["u_alice"] == (
        "u_alice",
        True,
        "alice@example.com",
        "cus_alice",
        6,
        1,
    )  # customer by email
    assert rows["u_bob"] == ("u_bob", True, "bob@example.com", "cus_bob", 1, 0)
    # customer object email (her charge carries none)
    assert rows["u_carol"] == ("u_carol", True, "carol@example.com", "cus_carol", 7, 1)
    assert rows["u_frank"] == ("u_frank", True, "frank@example.com", None, 3, 1)
    assert rows["anon:a_dave"] == (None, False, None, None, 1, 1)


# --- channels and campaign fields (docs/REFERENCE.md, Context; docs/METRICS.md, Channels) ---------


def test_channels_and_campaign_fields(built: WarehouseTarget) -> None:
    rows = {
        row[0]: row[1:]
        for row in query(
            built, "select event_id, channel, campaign_id, ad_id from marts.fct_events"
        )
    }
    assert rows[eid(101)] == ("google", "camp_g", "ad_g")
    assert rows[eid(102)] == ("meta", "camp_meta", "ad_meta")
    assert rows[eid(104)] == ("tiktok", "camp_tt", "ad_tt")
    assert rows[eid(301)][0] == "meta"
    assert rows[eid(302)][0] == "tiktok"
    assert rows[eid(303)][0] == "google"
    assert rows[eid(304)][0] == "email"
    assert rows[eid(305)][0] == "other"
    assert rows[eid(103)][0] is None


def test_stripe_major_units(built: WarehouseTarget) -> None:
    rows = dict(query(built, "select charge_id, amount from staging.stg_stripe__charges"))
    assert rows == {
        "ch_usd": Decimal("197.000"),
        "ch_jpy": Decimal("29800.000"),
        "ch_kwd": Decimal("59.500"),
    }


# --- attribution (docs/METRICS.md, Attribution) ---------------------------------------------------


def credits(
    target: WarehouseTarget, conversion: int
) -> dict[str, list[tuple[str | None, str, float]]]:
    rows = query(
        target,
        "select model, touchpoint_event_id, channel, credit from marts.fct_attribution_credits"
        f" where conversion_event_id = '{eid(conversion)}'"
        " order by model, touchpoint_position",
    )
    by_model: dict[str, list[tuple[str | None, str, float]]] = {}
    for model, touchpoint, channel, credit in rows:
        by_model.setdefault(model, []).append((touchpoint, channel, credit))
    return by_model


def assert_credits(actual: list[tuple[str | None, str, float]], expected: list[float]) -> None:
    assert [credit for _, _, credit in actual] == pytest.approx(expected, abs=1e-12)


def test_two_touchpoints_with_the_lookback_edge(built: WarehouseTarget) -> None:
    by_model = credits(built, 106)
    # 101 is 28 days + 1 second before: out; 102 is exactly 28 days before: in.
    assert {model: [tp for tp, _, _ in rows] for model, rows in by_model.items()} == {
        model: [eid(102), eid(104)] for model in MODELS
    }
    assert_credits(by_model["first_touch"], [1, 0])
    assert_credits(by_model["last_touch"], [0, 1])
    assert_credits(by_model["linear"], [0.5, 0.5])
    assert_credits(by_model["position_based"], [0.5, 0.5])
    assert_credits(by_model["time_decay"], [1 / 9, 8 / 9])  # weights 2^-4 and 2^-1


def test_three_touchpoints(built: WarehouseTarget) -> None:
    # Alice's signup, 2 days before T0: 101 (26 d + 1 s), 102 (26 d), 104 (5 d) are all in.
    by_model = credits(built, 105)
    assert [channel for _, channel, _ in by_model["linear"]] == ["google", "meta", "tiktok"]
    assert_credits(by_model["linear"], [1 / 3] * 3)
    assert_credits(by_model["position_based"], [0.4, 0.2, 0.4])
    weights = [2 ** (-(26 + 1 / 86400) / 7), 2 ** (-26 / 7), 2 ** (-5 / 7)]
    assert_credits(by_model["time_decay"], [w / sum(weights) for w in weights])


def test_five_touchpoints_with_a_tie(built: WarehouseTarget) -> None:
    by_model = credits(built, 307)
    # 301 and 302 happened at the same instant: event_id orders them.
    assert [tp for tp, _, _ in by_model["linear"]] == [eid(n) for n in (301, 302, 303, 304, 305)]
    assert [channel for _, channel, _ in by_model["linear"]] == [
        "meta",
        "tiktok",
        "google",
        "email",
        "other",
    ]
    assert_credits(by_model["first_touch"], [1, 0, 0, 0, 0])
    assert_credits(by_model["last_touch"], [0, 0, 0, 0, 1])
    assert_credits(by_model["linear"], [0.2] * 5)
    assert_credits(by_model["position_based"], [0.4, 0.2 / 3, 0.2 / 3, 0.2 / 3, 0.4])
    weights = [2 ** (-days / 7) for days in (5, 5, 4, 3, 1)]
    assert_credits(by_model["time_decay"], [w / sum(weights) for w in weights])


def test_one_touchpoint(built: WarehouseTarget) -> None:
    # Gina's signup: the meta visit 30 days earlier is outside the 28-day lookback -> direct;
    # Hank's signup has one touchpoint a day before.
    assert credits(built, 603) == {model: [(None, "direct", 1.0)] for model in MODELS}
    assert credits(built, 702) == {model: [(eid(701), "meta", 1.0)] for model in MODELS}


def test_conversion_values(built: WarehouseTarget) -> None:
    rows = {
        row[0]: row[1:]
        for row in query(
            built,
            "select conversion_event_id, max(conversion_value), max(currency), sum(attributed_value)"
            " from marts.fct_attribution_credits where model = 'linear' group by conversion_event_id",
        )
    }
    assert rows[eid(106)] == (
        Decimal("147"),
        "USD",
        Decimal("147"),
    )  # 197.00 charge, 50.00 refunded
    assert rows[eid(201)] == (
        Decimal("49"),
        "USD",
        Decimal("49"),
    )  # invoice, not properties.revenue
    assert rows[eid(307)] == (Decimal("29800"), "JPY", Decimal("29800"))  # zero-decimal currency
    assert rows[eid(105)] == (Decimal("0"), None, Decimal("0"))  # a signup without revenue
    assert credits(built, 201) == {model: [(None, "direct", 1.0)] for model in MODELS}


def test_channel_report(built: WarehouseTarget) -> None:
    rows = query(
        built,
        "select channel, campaign_id, currency, conversions, attributed_value, spend, roas"
        " from marts.rpt_channel_attribution"
        " where model = 'last_touch' and conversion_date = date '2025-03-01'"
        " order by channel, campaign_id, currency",
    )
    # Touchpoints that last_touch gives no credit keep a row with 0 (one row per touchpoint).
    # Spend joins on platform = channel, campaign and day (same currency); other channels have
    # no spend (null), and ROAS is value / spend.
    assert rows == [
        ("direct", None, "USD", 1.0, Decimal("49"), None, None),
        ("email", None, "JPY", 0.0, Decimal("0"), None, None),
        ("google", None, "JPY", 0.0, Decimal("0"), None, None),
        ("meta", "camp_meta", "USD", 0.0, Decimal("0"), Decimal("30"), 0.0),
        ("meta", None, "JPY", 0.0, Decimal("0"), None, None),
        ("other", None, "JPY", 1.0, Decimal("29800"), None, None),
        ("tiktok", "camp_tt", "USD", 1.0, Decimal("147"), Decimal("49"), pytest.approx(3.0)),
        ("tiktok", None, "JPY", 0.0, Decimal("0"), None, None),
    ]
    # Spend on a day without any conversion credited to the campaign is kept, in every model,
    # with 0 conversions.
    no_conversion_day = query(
        built,
        "select model, conversions, attributed_value, touched_conversions, spend, roas"
        " from marts.rpt_channel_attribution"
        " where conversion_date = date '2025-02-26' and channel = 'meta'"
        " and campaign_id = 'camp_meta' and currency = 'USD'"
        " order by model",
    )
    assert no_conversion_day == [
        (model, 0.0, Decimal("0"), 0, Decimal("12.5"), 0.0) for model in MODELS
    ]
    # Every reported dollar is in the report exactly once per model.
    spend_by_model = dict(
        query(built, "select model, sum(spend) from marts.rpt_channel_attribution group by model")
    )
    assert spend_by_model == {model: Decimal("91.5") for model in MODELS}
    totals = dict(
        query(
            built,
            "select model, sum(conversions) from marts.rpt_channel_attribution group by model",
        )
    )
    conversions = query(
        built,
        "select count(*) from marts.fct_events where event_name in ('purchase_completed', 'signup_completed')",
    )[0][0]
    assert totals == pytest.approx({model: float(conversions) for model in MODELS})


# --- funnels (docs/METRICS.md, Funnels) -----------------------------------------------------------


def test_funnel_steps(built: WarehouseTarget) -> None:
    reached = query(
        built,
        "select funnel_name, person_id, step_index, reached_event_id from marts.fct_funnel_steps"
        " order by funnel_name, person_id, step_index",
    )
    assert reached == [
        ("acquisition", "u_alice", 1, eid(101)),
        ("acquisition", "u_alice", 2, eid(103)),
        ("acquisition", "u_alice", 3, eid(105)),
        ("acquisition", "u_alice", 4, eid(106)),
        ("acquisition", "u_carol", 1, eid(301)),
        ("acquisition", "u_gina", 1, eid(601)),
        ("acquisition", "u_gina", 2, eid(602)),  # exactly 30 days after entry: in
        ("acquisition", "u_hank", 1, eid(701)),
        ("acquisition", "u_hank", 2, eid(703)),  # the signup before the waitlist does not count
        ("content_factory_activation", "u_ivy", 1, eid(801)),
        ("content_factory_activation", "u_ivy", 2, eid(802)),
        ("content_factory_activation", "u_ivy", 3, eid(803)),
    ]


def test_funnel_conversion(built: WarehouseTarget) -> None:
    rows = query(
        built,
        "select step_index, sum(persons) from marts.rpt_funnel_conversion"
        " where funnel_name = 'acquisition' group by step_index order by step_index",
    )
    assert rows == [(1, 4), (2, 3), (3, 1), (4, 1)]
    alice = query(
        built,
        "select step_index, persons, conversion_from_start, conversion_from_previous, median_seconds_from_previous"
        " from marts.rpt_funnel_conversion where funnel_name = 'acquisition'"
        f" and cohort_date = date '{(T0 - 28 * DAY - SECOND).date()}' order by step_index",
    )
    assert alice == [
        (1, 1, 1.0, 1.0, None),
        (2, 1, 1.0, 1.0, pytest.approx(18 * 86400 + 1)),
        (3, 1, 1.0, 1.0, pytest.approx(8 * 86400)),
        (4, 1, 1.0, 1.0, pytest.approx(2 * 86400)),
    ]


# --- the same marts on both backends (docs/REFERENCE.md, dbt schemas) -----------------------------

# Stamped by the SDK and the warehouse when the scenario is written, not by the models
# (fct_attribution_credits keeps its conversion event's received_at), or by the dbt runs.
WALL_CLOCK_COLUMNS = {"sent_at", "received_at", "conversion_received_at", *RUN_STAMP_COLUMNS}


def _normalized(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, dict | list):
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _rows(
    target: WarehouseTarget, table: str, order_by: str
) -> tuple[list[str], list[tuple[Any, ...]]]:
    with connect(target) as conn:
        cursor = conn.execute(f"select * from marts.{table} order by {order_by}")
        columns = [column[0] for column in cursor.description]
        rows = [tuple(_normalized(value) for value in row) for row in cursor.fetchall()]
    return columns, rows


@pytest.mark.postgres
@pytest.mark.parametrize("table", sorted(CORE_MARTS))
def test_marts_equal_on_duckdb_and_postgres(
    table: str, built_targets: dict[str, WarehouseTarget], postgres_admin: WarehouseTarget
) -> None:
    duck_columns, duck_rows = _rows(built_targets["duckdb"], table, CORE_MARTS[table])
    pg_columns, pg_rows = _rows(built_targets["postgres"], table, CORE_MARTS[table])
    assert duck_columns == pg_columns
    assert len(duck_rows) == len(pg_rows) > 0
    for duck_row, pg_row in zip(duck_rows, pg_rows, strict=True):
        for column, duck_value, pg_value in zip(duck_columns, duck_row, pg_row, strict=True):
            if column in WALL_CLOCK_COLUMNS:
                continue
            if isinstance(duck_value, float) or isinstance(pg_value, float):
                assert duck_value == pytest.approx(pg_value, abs=1e-9), (table, column, duck_row)
            else:
                assert duck_value == pg_value, (table, column, duck_row)
