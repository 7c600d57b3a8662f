"""The dashboard's pure pieces: filter binding, money formatting, the figures' arithmetic and
the page's assembly, with no database."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import altair as alt
import pytest

from api.dashboard.charts import (
    Chart,
    FigureTable,
    SectionView,
    at_stake,
    creative_ranking,
    money,
    percent,
    video_titles,
)
from api.dashboard.page import render_page
from api.dashboard.queries import SECTIONS, Filters, InvalidFilters, Query, bind

DAILY = Query(
    "daily",
    "select * from marts.t {where} order by 1",
    product="product = {}",
    since="day >= {}",
    until="day <= {}",
)


def test_filters_bind_as_parameters_in_each_drivers_style() -> None:
    filters = Filters("portal28", date(2024, 6, 1), date(2024, 6, 30))
    sql, params = bind(DAILY, filters, duckdb=True)
    assert sql == (
        "select * from marts.t where day >= $since and day <= $until and product = $product"
        " order by 1"
    )
    assert params == {"since": date(2024, 6, 1), "until": date(2024, 6, 30), "product": "portal28"}
    sql, _ = bind(DAILY, filters, duckdb=False)
    assert "day >= %(since)s and day <= %(until)s and product = %(product)s" in sql
    assert bind(DAILY, Filters(), duckdb=True) == ("select * from marts.t  order by 1", {})


def test_months_start_on_the_first_and_timestamps_cover_whole_utc_days() -> None:
    months = Query("m", "select 1 {where}", since="month >= {}", month_start=True)
    assert bind(months, Filters(since=date(2024, 6, 17)), duckdb=True)[1] == {
        "since": date(2024, 6, 1)
    }
    issues = Query(
        "i", "select 1 where x {and_where}", since="at >= {}", until="at < {}", timestamps=True
    )
    sql, params = bind(issues, Filters(since=date(2024, 6, 1), until=date(2024, 6, 1)), True)
    assert sql == "select 1 where x and at >= $since and at < $until"
    assert params == {
        "since": datetime(2024, 6, 1, tzinfo=UTC),
        "until": datetime(2024, 6, 2, tzinfo=UTC),
    }


def test_a_range_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(InvalidFilters, match="starts"):
        Filters(since=date(2024, 6, 2), until=date(2024, 6, 1))


def test_every_section_query_has_its_filter_slot() -> None:
    for spec in SECTIONS:
        for query in spec.queries:
            assert ("{where}" in query.sql) != ("{and_where}" in query.sql), query.name
            assert spec.by_product or query.product is None, query.name
            if not spec.dated:
                assert query.since is None and query.until is None, query.name


def test_money_uses_the_currencys_own_decimals() -> None:
    assert money(Decimal("1234.5"), "USD") == "1,234.50 USD"
    assert money(Decimal("105240"), "JPY") == "105,240 JPY"
    assert money(Decimal("59.5"), "KWD") == "59.500 KWD"
    assert money(None, "USD") == "—"
    assert percent(0.05204) == "5.20%"


def test_a_bundle_purchase_is_at_stake_once_whatever_its_apps() -> None:
    issues = [
        {"source_purchase_id": "ch_1", "app": app, "amount": Decimal(497), "currency": "USD"}
        for app in ("portal28", "mediaposter", "pct")
    ] + [
        {"source_purchase_id": "in_2", "app": "pct", "amount": Decimal(900), "currency": "JPY"},
        {"source_purchase_id": "in_3", "app": "pct", "amount": None, "currency": None},
    ]
    assert at_stake(issues) == {"JPY": Decimal(900), "USD": Decimal(497)}


def test_creatives_rank_by_roas_among_ads_with_spend() -> None:
    def ad(ad_id: str, spend: str, value: str | None) -> dict[str, object]:
        return {
            "platform": "meta",
            "ad_id": ad_id,
            "spend": Decimal(spend),
            "conversion_value": None if value is None else Decimal(value),
        }

    ranked = creative_ranking(
        [ad("a", "10", "30"), ad("b", "0", "99"), ad("c", "5", None), ad("d", "2", "8")]
    )
    assert [(r["ad_id"], r["roas"]) for r in ranked] == [
        ("d", Decimal(4)),
        ("a", Decimal(3)),
        ("c", Decimal(0)),
    ]


def test_videos_with_the_same_title_keep_apart() -> None:
    rows = {
        ("7001",): [{"snapshot_date": date(2024, 6, 1), "title": "Same"}],
        ("7002",): [{"snapshot_date": date(2024, 6, 1), "title": "Same"}],
        ("7003",): [{"snapshot_date": date(2024, 6, 1), "title": ""}],
    }
    assert video_titles(rows) == {"7001": "Same (…7001)", "7002": "Same (…7002)", "7003": "7003"}


def test_the_page_inlines_its_charts_with_ids_that_never_collide() -> None:
    values = [{"x": "a", "y": 1.0}, {"x": "b", "y": 2.0}]
    gradient = (
        alt.Chart(alt.Data(values=values))
        .mark_rect()
        .encode(x="x:N", color=alt.Color("y:Q"))  # a continuous legend: an SVG gradient
    )
    views = [
        SectionView(
            key,
            key,
            ("t",),
            "lead",
            charts=[Chart("c", "C", gradient)],
            figures=[FigureTable("f", "F", ("a", "b"), [("x", "1.00 USD")])],
        )
        for key in ("one", "two")
    ]
    html = render_page(views, Filters(), datetime(2024, 6, 1, tzinfo=UTC))
    assert html.count("<svg") == 2 and "<script" not in html and "xmlns" not in html
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    for reference in re.findall(r"url\(#([^)]+)\)", html):
        assert reference in ids
    assert '<td class="num">1.00 USD</td>' in html
