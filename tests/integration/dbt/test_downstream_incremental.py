"""The incremental models besides fct_events (int_anonymous_ids_claimed, the funnels,
int_conversions_valued, fct_attribution_credits, fct_channel_credits_daily,
fct_ad_conversions_daily, int_person_event_stats, int_person_products,
int_product_days_counted): after a full build and one more batch of data — a late
re-identification, a late earlier claim that takes a touchpoint away from a user, a
late-arriving touchpoint, a touchpoint exactly at the lookback edge of a conversion, a Stripe
refund changing a conversion's value, a Stripe invoice ingested after the conversion naming it
— and a partition run merging that batch again, an incremental build (and another after a run
of fct_events alone moved events and a rebuild of fct_events alone) gives every core mart
(fct_events, dim_persons, funnels, attribution), rpt_product_daily and the incremental
intermediate tables row for row as a full refresh does.

The late-arrival window is 0 hours (as in test_core_incremental), and the events of the persons
under test are loaded before the rest of the first batch, so only the model's own re-read
horizons bring them back: a lookback horizon an hour short misses the edge touchpoint, ignoring
stored touchpoints misses the one that moved, ignoring Stripe misses the refund."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from acd_analytics.warehouse_url import WarehouseTarget

from tests.integration.dbt.conftest import (
    CORE_MARTS,
    RUN_STAMP_COLUMNS,
    RunDbt,
    eid,
    query,
    track,
    window_vars,
)
from warehouse_db.connection import connect

pytestmark = pytest.mark.slow

T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
DAY = timedelta(days=1)
LOOKBACK = 28 * DAY
META = {"campaign": {"source": "facebook", "name": "c1", "content": "ad1"}}
TIKTOK = {"page": {"url": "https://x.io/?utm_source=tiktok&utm_campaign=t1&ttclid=t"}}
GOOGLE = {"page": {"url": "https://x.io/?gclid=g&utm_campaign=g1"}}
NO_LOOKBACK = ["--vars", "{events_late_arrival_hours: 0}"]
ALL_ROWS = ["--vars", "{events_late_arrival_hours: 0, test_all_rows: true}"]
SELECTION = [
    "--select",
    "+core",
    "+marts.funnels",
    "+marts.attribution",
    "+rpt_product_daily",
    "fct_ad_conversions_daily",
]


def event(
    n: int,
    name: str,
    at: datetime,
    *,
    user_id: str | None = None,
    anonymous_id: str | None = None,
    context: dict[str, Any] | None = None,
    properties: dict[str, Any] | None = None,
    product: str = "portal28",
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "event_name": name,
        "product": product,
        "occurred_at": at,
        "event_id": eid(n),
        "properties": properties or {},
    }
    if name == "signup_completed":
        out["properties"] = {"method": "email", **out["properties"]}
    if user_id:
        out["user_id"] = user_id
    if anonymous_id:
        out["anonymous_id"] = anonymous_id
    if context:
        out["context"] = context
    return out


FIRST_BATCH = [
    # anon:a_late: an ad visit (funnel entry, touchpoint) and an anonymous purchase.
    event(1, "page_viewed", T0 - 3 * DAY, anonymous_id="a_late", context=META),
    event(
        2,
        "purchase_completed",
        T0 - DAY,
        anonymous_id="a_late",
        properties={"revenue": 10, "currency": "USD"},
    ),
    # u_1 claims a_1 at signup; a TikTok visit before it.
    event(3, "signup_completed", T0 - 2 * DAY, user_id="u_1", anonymous_id="a_1"),
    event(4, "page_viewed", T0 - 5 * DAY, anonymous_id="a_1", context=TIKTOK),
    # u_2 pays through Stripe charge ch_1 (50 USD), refunded in the second batch.
    event(
        5,
        "purchase_completed",
        T0 - DAY,
        user_id="u_2",
        properties={"revenue": 50, "currency": "USD", "stripe_charge_id": "ch_1"},
    ),
    event(6, "page_viewed", T0 - 2 * DAY, user_id="u_2", context=META),
    # u_3 converts at T0 after one Meta visit.
    event(
        7, "purchase_completed", T0, user_id="u_3", properties={"revenue": 20, "currency": "USD"}
    ),
    event(8, "page_viewed", T0 - 5 * DAY, user_id="u_3", context=META),
    # u_4 is untouched by the second batch.
    event(9, "page_viewed", T0 - 40 * DAY, anonymous_id="a_4", context=META),
    event(
        10,
        "waitlist_joined",
        T0 - 39 * DAY,
        user_id="u_4",
        anonymous_id="a_4",
        properties={"waitlist_id": "w1"},
    ),
    event(
        11,
        "purchase_completed",
        T0 - 38 * DAY,
        user_id="u_4",
        properties={"revenue": 5, "currency": "USD"},
    ),
    # u_9a claims a_9 and buys after a_9's ad visit, until an earlier claim by u_9b arrives.
    event(12, "page_viewed", T0 - 2 * DAY, anonymous_id="a_9", context=META),
    event(13, "signup_completed", T0 - DAY, user_id="u_9a", anonymous_id="a_9"),
    event(
        14, "purchase_completed", T0, user_id="u_9a", properties={"revenue": 3, "currency": "USD"}
    ),
    # u_5 enters the acquisition funnel (30-day window) 40 days before T0.
    event(15, "page_viewed", T0 - 40 * DAY, user_id="u_5", context=META),
    # u_10a claims a_10 through an alias, until an earlier claim by u_10b arrives.
    event(16, "page_viewed", T0 - 2 * DAY, anonymous_id="a_10", context=META),
    event(17, "alias", T0 - DAY, user_id="u_10a", properties={"previous_id": "a_10"}),
    # u_11 claims a_11 through an alias, until a_11 turns out to be a user id itself.
    event(18, "page_viewed", T0 - 2 * DAY, anonymous_id="a_11", context=META),
    event(19, "alias", T0 - DAY, user_id="u_11", properties={"previous_id": "a_11"}),
    # a_12 visits anonymously; the second batch claims it through an alias.
    event(31, "page_viewed", T0 - 2 * DAY, anonymous_id="a_12", context=META),
    # u_6 pays Stripe invoice in_1, ingested only with the second batch: worth its properties'
    # 40 USD until then, the 35 USD paid after.
    event(
        33,
        "purchase_completed",
        T0 - DAY,
        user_id="u_6",
        properties={"revenue": 40, "currency": "USD", "stripe_invoice_id": "in_1"},
    ),
    # u_13a's signup, the only conversion of its day, is credited to a_13's Meta ad visit until
    # an earlier claim by u_13b arrives: the day then has no ad conversions left.
    event(34, "page_viewed", T0 - 7 * DAY, anonymous_id="a_13", context=META),
    event(35, "signup_completed", T0 - 6 * DAY, user_id="u_13a", anonymous_id="a_13"),
    # u_14 signs up with a_14; the second batch brings one event with a_14 again and one with a
    # new anonymous id (int_person_event_stats adds to u_14's stored counts).
    event(37, "signup_completed", T0 - 2 * DAY, user_id="u_14", anonymous_id="a_14"),
]
# Loaded (and so received) before the rest of FIRST_BATCH: received before the newest event the
# models store, they are not re-read by the incremental run, so only the horizons can bring
# these persons' conversions and funnels back.
EARLY = {eid(n) for n in (3, 4, 7, 8, 12, 13, 14, 15, 16, 17)}

SECOND_BATCH = [
    # a_late is claimed now: its ad visit and purchase move to u_late.
    event(20, "signup_completed", T0, user_id="u_late", anonymous_id="a_late"),
    # Received now: a Google visit of u_3 exactly the lookback before the conversion (counts) and
    # a TikTok one a second earlier (does not).
    event(21, "page_viewed", T0 - LOOKBACK, user_id="u_3", context=GOOGLE),
    event(22, "page_viewed", T0 - LOOKBACK - timedelta(seconds=1), user_id="u_3", context=TIKTOK),
    # A late anonymous visit of a_1 (claimed by u_1 long ago) before u_1's signup.
    event(23, "page_viewed", T0 - 3 * DAY, anonymous_id="a_1", context=META),
    # u_1 joins a waitlist and buys.
    event(24, "waitlist_joined", T0 - DAY, user_id="u_1", properties={"waitlist_id": "w1"}),
    event(
        25, "purchase_completed", T0, user_id="u_1", properties={"revenue": 7, "currency": "USD"}
    ),
    # A late, earlier claim of a_9: its ad visit leaves u_9a (whose purchase becomes direct and
    # whose funnel entry goes) for u_9b.
    event(26, "signup_completed", T0 - 3 * DAY, user_id="u_9b", anonymous_id="a_9", product="pct"),
    # Received now: u_5 joins the waitlist exactly at the end of the funnel's window, in a
    # product new to them (int_person_products keeps their first one).
    event(
        27,
        "waitlist_joined",
        T0 - 10 * DAY,
        user_id="u_5",
        properties={"waitlist_id": "w1"},
        product="waitlistlab",
    ),
    # The earlier claim of a_10: its visit leaves u_10a, whose only claim was an alias.
    event(28, "signup_completed", T0 - 3 * DAY, user_id="u_10b", anonymous_id="a_10"),
    # a_11 is a user id: the alias of u_11 merged two users, so it is no claim any more.
    event(29, "page_viewed", T0, user_id="a_11"),
    event(32, "alias", T0 - DAY, user_id="u_12", properties={"previous_id": "a_12"}),
    event(36, "signup_completed", T0 - 8 * DAY, user_id="u_13b", anonymous_id="a_13"),
    event(38, "page_viewed", T0, user_id="u_14", anonymous_id="a_14"),
    event(39, "page_viewed", T0, user_id="u_14", anonymous_id="a_14b"),
]

# After the incremental build: an earlier claim of a_1, run through fct_events alone.
THIRD_BATCH = [event(40, "signup_completed", T0 - 10 * DAY, user_id="u_1x", anonymous_id="a_1")]

CHARGE = {
    "id": "ch_1",
    "object": "charge",
    "amount": 5000,
    "amount_refunded": 0,
    "currency": "usd",
    "customer": None,
    "paid": True,
    "refunded": False,
    "status": "succeeded",
    "created": 1740830400,
}
REFUND = {
    "id": "re_1",
    "object": "refund",
    "amount": 2000,
    "charge": "ch_1",
    "currency": "usd",
    "status": "succeeded",
    "created": 1740916800,
}

INVOICE = {
    "id": "in_1",
    "object": "invoice",
    "amount_paid": 3500,
    "amount_due": 3500,
    "total": 3500,
    "currency": "usd",
    "customer": None,
    "status": "paid",
    "created": 1740830400,
}


def write_stripe(target: WarehouseTarget, table: str, payload: dict[str, Any]) -> None:
    json_cast = "jsonb" if target.backend == "postgres" else "json"
    with connect(target) as conn:
        conn.execute(
            f"insert into raw_stripe.{table} (id, payload, _account_id)"
            f" values ('{payload['id']}', cast('{json.dumps(payload)}' as {json_cast}), 'acct_1')"
        )


def _normalized(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, float):
        # Sums of doubles may differ in the last bits with the order of aggregation.
        return None if math.isnan(value) else round(value, 9)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.dumps(json.loads(value), sort_keys=True)
        except ValueError:
            return value
    return value if value is None or isinstance(value, int | str | bool) else str(value)


CLAIMS = "select anonymous_id, user_id from intermediate.int_anonymous_ids_claimed order by 1"
CREDITS = (
    "select conversion_event_id, person_id, touchpoint_event_id, conversion_value"
    " from marts.fct_attribution_credits where model = 'linear'"
)


# Besides the core marts: the incremental intermediate tables and the report built on them.
DOWNSTREAM = {
    "marts.fct_ad_conversions_daily": "platform, ad_id, conversion_date, currency",
    "intermediate.int_anonymous_ids_claimed": "anonymous_id",
    "marts.fct_channel_credits_daily": "conversion_date, model, channel, campaign_id, currency",
    "intermediate.int_conversions_valued": "conversion_event_id",
    "intermediate.int_funnel_events_matched": "funnel_name, step_index, event_id",
    "intermediate.int_person_event_stats": "person_id",
    "intermediate.int_person_products": "person_id, product",
    "intermediate.int_product_days_counted": "product, activity_date",
    "marts.rpt_product_daily": "product, activity_date",
}


def marts(target: WarehouseTarget) -> dict[str, list[tuple[Any, ...]]]:
    """Every compared table's rows, without the run stamps (which differ between two runs)."""
    out = {}
    tables = {**{f"marts.{table}": order for table, order in CORE_MARTS.items()}, **DOWNSTREAM}
    for table, order_by in tables.items():
        with connect(target) as conn:
            cursor = conn.execute(f"select * from {table} order by {order_by}")
            columns = [column[0] for column in cursor.description]
            out[table] = [
                tuple(
                    _normalized(v)
                    for c, v in zip(columns, row, strict=True)
                    if c not in RUN_STAMP_COLUMNS
                )
                for row in cursor.fetchall()
            ]
    return out


def test_incremental_marts_equal_full_refresh(
    warehouse: WarehouseTarget, run_dbt: RunDbt, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    track(warehouse, spool, [e for e in FIRST_BATCH if e["event_id"] in EARLY])
    track(warehouse, spool, [e for e in FIRST_BATCH if e["event_id"] not in EARLY])
    write_stripe(warehouse, "charges", CHARGE)
    build = ["build", *SELECTION, "--exclude", "test_type:unit", *NO_LOOKBACK]
    run_dbt(warehouse, build)
    before = marts(warehouse)
    before_credits = query(warehouse, CREDITS)
    assert {("acquisition", "anon:a_late", 1), ("acquisition", "u_9a", 1)} <= {
        row[:3] for row in before["marts.fct_funnel_steps"]
    }

    second_batch_received_from = datetime.now(UTC)
    track(warehouse, spool, SECOND_BATCH)
    write_stripe(warehouse, "refunds", REFUND)
    write_stripe(warehouse, "invoices", INVOICE)
    run_dbt(warehouse, build)
    # A partition run merges the second batch again (Dagster's backfill of its day); the next
    # build sees those rows stamped anew, and must not count them twice.
    window = window_vars(second_batch_received_from, datetime(2100, 1, 1, tzinfo=UTC))
    run_dbt(warehouse, ["run", "--select", "+fct_events", *window])
    run_dbt(warehouse, build)
    incremental = marts(warehouse)
    incremental_claims = query(warehouse, CLAIMS)
    credits = query(warehouse, CREDITS)
    run_dbt(warehouse, ["run", *SELECTION, "--full-refresh", *NO_LOOKBACK])
    full_refresh = marts(warehouse)

    # fct_events rebuilt alone after a run of fct_events alone moved a_1's events to u_1x (an
    # earlier claim): every row is new by its stamps, none says it moved, and nothing may
    # count twice.
    track(warehouse, spool, THIRD_BATCH)
    run_dbt(warehouse, ["run", "--select", "+fct_events", *NO_LOOKBACK])
    run_dbt(warehouse, ["run", "--select", "fct_events", "--full-refresh", *NO_LOOKBACK])
    run_dbt(warehouse, build)
    after_rebuild = marts(warehouse)
    run_dbt(warehouse, ["run", *SELECTION, "--full-refresh", *NO_LOOKBACK])
    full_after_rebuild = marts(warehouse)

    assert incremental.keys() == full_refresh.keys() == after_rebuild.keys()
    for table in incremental:
        assert incremental[table] == full_refresh[table], table
        assert after_rebuild[table] == full_after_rebuild[table], table
    assert "a_11" not in {anonymous_id for anonymous_id, _user in incremental_claims}
    moved = {row[0] for row in after_rebuild["intermediate.int_person_products"]}
    assert "u_1x" in moved

    # The scenario did exercise what it means to.
    touchpoints: dict[str, set[str | None]] = {}
    for conversion, _person, touchpoint, _value in credits:
        touchpoints.setdefault(conversion, set()).add(touchpoint)
    assert touchpoints[eid(7)] == {eid(8), eid(21)}  # the edge visit counts, not a second before
    assert touchpoints[eid(3)] == {eid(4), eid(23)}  # the late visit
    assert touchpoints[eid(2)] == {eid(1)}
    assert touchpoints[eid(14)] == {None}  # its only touchpoint moved to u_9b
    persons = {conversion: person for conversion, person, _t, _v in credits}
    assert persons[eid(2)] == "u_late"
    values = {conversion: float(value) for conversion, _p, _t, value in credits}
    assert values[eid(5)] == 30.0  # 50 USD less the 20 USD refund
    values_before = {conversion: float(value) for conversion, _p, _t, value in before_credits}
    assert values_before[eid(33)] == 40.0
    assert values[eid(33)] == 35.0  # the invoice ingested after the first build
    steps = {row[:3] for row in incremental["marts.fct_funnel_steps"]}
    assert not any(person == "anon:a_late" for _f, person, _s in steps)
    assert ("acquisition", "u_late", 1) in steps
    assert ("acquisition", "u_9b", 1) in steps
    assert ("acquisition", "u_9a", 1) not in steps
    assert ("acquisition", "u_5", 2) in steps  # at the window's end
    persons_events = {row[0]: row[10] for row in incremental["marts.dim_persons"]}
    assert "anon:a_late" not in persons_events
    assert (persons_events["u_9a"], persons_events["u_9b"]) == (2, 2)
    assert (persons_events["u_10a"], persons_events["u_10b"]) == (1, 2)
    assert (persons_events["u_11"], persons_events["anon:a_11"]) == (1, 1)
    assert persons_events["u_12"] == 2  # the alias took a_12's earlier visit
    assert "anon:a_12" not in persons_events
    # person_id, user_id, events, anonymous_ids
    assert [
        r[:4] for r in incremental["intermediate.int_person_event_stats"] if r[0] == "u_14"
    ] == [("u_14", "u_14", 3, 2)]
    # The re-identified persons left int_person_products, so rpt_product_daily's new persons
    # moved to the users that claimed them.
    products_before = {row[0] for row in before["intermediate.int_person_products"]}
    products_after = {row[0] for row in incremental["intermediate.int_person_products"]}
    assert {"anon:a_late", "anon:a_12"} <= products_before - products_after
    assert {"u_late", "u_12"} <= products_after
    # The day of u_13a's signup lost its only ad conversion, and with it its row.
    ad_days_before = {row[2] for row in before["marts.fct_ad_conversions_daily"]}
    ad_days_after = {row[2] for row in incremental["marts.fct_ad_conversions_daily"]}
    assert str((T0 - 6 * DAY).date()) in ad_days_before - ad_days_after
    # u_4 was not recomputed, and is unchanged.
    assert [r for r in incremental["marts.fct_attribution_credits"] if r[0] == eid(11)] == [
        r for r in before["marts.fct_attribution_credits"] if r[0] == eid(11)
    ]


def test_tests_of_incremental_marts_check_the_rows_of_the_latest_run(
    warehouse: WarehouseTarget, run_dbt: RunDbt, tmp_path: Path
) -> None:
    """An incremental run's tests of fct_events and fct_attribution_credits check the rows that
    run wrote; rows of earlier runs are checked with `test_all_rows` (and by a full build)."""
    spool = tmp_path / "spool"
    build = ["build", *SELECTION, "--exclude", "test_type:unit", *NO_LOOKBACK]
    for batch in (
        FIRST_BATCH,
        SECOND_BATCH,
        [
            event(
                30,
                "purchase_completed",
                T0,
                user_id="u_new",
                properties={"revenue": 1, "currency": "USD"},
            )
        ],
    ):
        track(warehouse, spool, batch)
        run_dbt(warehouse, build)
    [(newest,)] = query(warehouse, "select max(built_at) from marts.fct_attribution_credits")
    stamps = dict(
        query(warehouse, "select conversion_event_id, built_at from marts.fct_attribution_credits")
    )
    assert stamps[eid(30)] == newest
    assert stamps[eid(11)] < newest  # u_4's purchase was not recomputed by the last run

    def old_row_is_checked_only_with_all_rows(selection: list[str], corruption: str) -> None:
        """Corrupt a row an earlier run wrote: the default run passes, test_all_rows fails."""
        with connect(warehouse) as conn:
            conn.execute(corruption)
        assert run_dbt(warehouse, [*selection, *NO_LOOKBACK]).returncode == 0
        assert run_dbt(warehouse, [*selection, *ALL_ROWS], check=False).returncode == 1

    sum_to_one = ["test", "--select", "assert_attribution_credits_sum_to_one"]
    corrupt = "update marts.fct_attribution_credits set credit = 2 where conversion_event_id = '{}'"
    old_row_is_checked_only_with_all_rows(sum_to_one, corrupt.format(eid(11)))
    with connect(warehouse) as conn:
        conn.execute(corrupt.format(eid(30)))
    assert run_dbt(warehouse, [*sum_to_one, *NO_LOOKBACK], check=False).returncode == 1

    # A generic test with `where: __latest_run__` (fct_events' accepted channels) likewise.
    channel_test = ["test", "--select", "fct_events,test_name:accepted_values"]
    [(old_event,)] = query(
        warehouse,
        "select min(event_id) from marts.fct_events"
        " where built_at < (select max(built_at) from marts.fct_events)",
    )
    old_row_is_checked_only_with_all_rows(
        channel_test,
        f"update marts.fct_events set channel = 'bogus' where event_id = '{old_event}'",
    )
    with connect(warehouse) as conn:
        conn.execute(f"update marts.fct_events set channel = 'bogus' where event_id = '{eid(30)}'")
    assert run_dbt(warehouse, [*channel_test, *NO_LOOKBACK], check=False).returncode == 1

    # A singular test of fct_funnel_steps checks the persons of its latest run likewise.
    [(person,)] = query(
        warehouse,
        "select min(person_id) from marts.fct_funnel_steps where step_index = 2"
        " and built_at < (select max(built_at) from marts.fct_funnel_steps)",
    )
    old_row_is_checked_only_with_all_rows(
        ["test", "--select", "assert_funnel_steps_in_order"],
        "update marts.fct_funnel_steps set reached_at = entered_at - interval '1 day'"
        f" where person_id = '{person}' and step_index = 2",
    )
