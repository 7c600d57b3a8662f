"""The dashboard of the sample world, on DuckDB and PostgreSQL (issue 25, "How it is checked").

Every section is there with charts that draw marks, and every figure printed beside a chart
equals the marts' numbers, queried here independently with SQL (the page computes its figures
in Python from the rows it charts). Figures are compared as printed, to the printed precision.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from api.dashboard import SECTION_KEYS, render_dashboard
from tests.integration.conftest import Built
from tests.integration.dashboard.conftest import ParsedTable, RenderedReport, parse_report
from tests.integration.dbt.conftest import query

pytestmark = pytest.mark.slow

DASH = "—"
# Decimal places of a currency's major unit (ISO 4217) for the currencies the world uses.
CURRENCY_PLACES = {"JPY": 0, "KWD": 3}
MODELS = ("first_touch", "last_touch", "linear", "position_based", "time_decay")


def printed(text: str, suffix: str = "") -> Decimal:
    assert text.endswith(suffix), (text, suffix)
    return Decimal(text.removesuffix(suffix).replace(",", "").strip())


def assert_shows(text: str, expected: Any, places: int, suffix: str = "") -> None:
    """`text` is `expected` printed to `places` decimals (then `suffix`); `—` for None."""
    if expected is None:
        assert text == DASH
        return
    tolerance = Decimal(5) * Decimal(10) ** -(places + 1) + Decimal("1e-9")
    assert abs(printed(text, suffix) - Decimal(str(expected))) <= tolerance, (text, expected)
    decimals = r"\.\d{" + str(places) + "}" if places else ""
    assert re.fullmatch(r"-?\d{1,3}(,\d{3})*" + decimals, text.removesuffix(suffix)), text


def assert_money(text: str, amount: Any, currency: str) -> None:
    assert_shows(text, amount, CURRENCY_PLACES.get(currency, 2), f" {currency}")


def assert_percent(text: str, value: Any, places: int) -> None:
    assert_shows(text, None if value is None else Decimal(str(value)) * 100, places, "%")


def ratio(numerator: Any, denominator: Any) -> Decimal | None:
    if numerator is None or not denominator:
        return None
    return Decimal(str(numerator)) / Decimal(str(denominator))


def table(report: RenderedReport, section: str, key: str) -> ParsedTable:
    tables = report.sections[section].tables
    assert key in tables, f"{section} has no figure table {key}: {sorted(tables)}"
    return tables[key]


# --- structure ---------------------------------------------------------------------------------


def test_every_section_is_there_with_charts_that_draw_marks(report: RenderedReport) -> None:
    assert list(report.sections) == list(SECTION_KEYS)
    for key, section in report.sections.items():
        assert section.status == "ok", (key, section.panel)
        assert section.panel is None, key
        assert section.charts, f"{key} has no chart"
        assert section.tables, f"{key} has no figures"
        for chart in section.charts:
            assert chart.svgs == 1, (key, chart.key)
            assert chart.mark_groups >= 1 and chart.mark_items >= 2, (key, chart)


def test_the_page_is_self_contained(report: RenderedReport) -> None:
    text = report.html
    assert "<script" not in text.lower()
    assert not {"img", "link", "iframe", "object", "embed", "image", "use"} & set(report.tags)
    assert not re.search(r"\b(src|srcset)=", text)
    assert set(re.findall(r'href="([^"]*)"', text)) == {f"#{key}" for key in SECTION_KEYS}
    assert set(re.findall(r"url\((.)", text)) <= {"#"}  # only the charts' own gradients
    assert "http://" not in text.replace('http-equiv="', "") and "https://" not in text
    assert "default-src 'none'" in text  # and the page forbids itself to load anything
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) == len(set(ids))


# --- the figures against the marts ----------------------------------------------------------------


def test_product_figures_equal_the_mart(built: Built, report: RenderedReport) -> None:
    expected = query(
        built.target,
        """
        select product, currency, count(*), max(active_persons), sum(signups), sum(purchases),
            sum(stripe_net_revenue), sum(charges_in_other_currencies), sum(ad_spend),
            sum(last_touch_attributed_value), sum(ai_cost_usd)
        from marts.rpt_product_daily
        group by product, currency
        order by product, currency
        """,
    )
    shown = table(report, "product_daily", "product_totals").records()
    assert [row["product"] for row in shown] == [row[0] for row in expected]
    for row, (_, currency, days, peak, signups, purchases, revenue, other, spend, value, ai) in zip(
        shown, expected, strict=True
    ):
        assert_shows(row["days"], days, 0)
        assert_shows(row["peak active persons"], peak, 0)
        assert_shows(row["signups"], signups, 0)
        assert_shows(row["purchases"], purchases, 0)
        assert_money(row["Stripe net revenue"], revenue, currency)
        assert_shows(row["charges in other currencies"], other, 0)
        assert_money(row["ad spend"], spend, currency)
        assert_shows(row["ROAS"], ratio(value, spend), 2)
        assert_money(row["AI cost"], ai, "USD")


def test_funnel_figures_equal_the_mart(built: Built, report: RenderedReport) -> None:
    steps = query(
        built.target,
        """
        select funnel_name, step_index, step_name, sum(persons),
            percentile_cont(0.5) within group (order by median_seconds_from_previous)
        from marts.rpt_funnel_conversion
        group by funnel_name, step_index, step_name
        order by funnel_name, step_index
        """,
    )
    shown = table(report, "funnels", "funnel_steps").records()
    assert [(row["funnel"], row["step"]) for row in shown] == [
        (funnel, f"{index}. {name}") for funnel, index, name, _, _ in steps
    ]
    entered: dict[str, Any] = {}
    previous: Any = None
    for row, (funnel, index, _, persons, median_seconds) in zip(shown, steps, strict=True):
        if index == 1:
            entered[funnel] = persons
        assert_shows(row["persons"], persons, 0)
        assert_percent(row["from start"], ratio(persons, entered[funnel]), 1)
        assert_percent(row["from previous"], 1 if index == 1 else ratio(persons, previous), 1)
        hours = None if median_seconds is None else Decimal(str(median_seconds)) / 3600
        assert_shows(row["median time"], hours, 1, " h")
        previous = persons


def test_attribution_figures_equal_the_mart(built: Built, report: RenderedReport) -> None:
    conversions = dict(
        query(
            built.target,
            "select model, sum(conversions) from marts.rpt_channel_attribution group by model",
        )
    )
    values = query(
        built.target,
        "select model, currency, sum(attributed_value) from marts.rpt_channel_attribution"
        " where currency is not null group by model, currency",
    )
    models = table(report, "attribution", "attribution_models")
    assert models.column("model") == list(MODELS)
    currencies = sorted({currency for _, currency, _ in values})
    assert models.headers == ["model", "conversions", *(f"value {c}" for c in currencies)]
    by_model = {row["model"]: row for row in models.records()}
    for model in MODELS:
        assert_shows(by_model[model]["conversions"], conversions[model], 1)
    for model, currency, value in values:
        assert_money(by_model[model][f"value {currency}"], value, currency)

    # Campaigns: spend once (the last-touch rows; every model repeats it), ROAS per model.
    spend = query(
        built.target,
        """
        select channel, campaign_id, currency, sum(spend)
        from marts.rpt_channel_attribution
        where model = 'last_touch'
        group by channel, campaign_id, currency
        having sum(spend) > 0
        order by channel, campaign_id, currency
        """,
    )
    value_by_model = {
        (channel, campaign, currency, model): value
        for channel, campaign, currency, model, value in query(
            built.target,
            """
            select channel, campaign_id, currency, model, sum(attributed_value)
            from marts.rpt_channel_attribution
            group by channel, campaign_id, currency, model
            """,
        )
    }
    campaigns = table(report, "attribution", "campaigns").records()
    assert spend, "the world's ads spend"
    assert [row["campaign"] for row in campaigns] == [f"{ch} {camp}" for ch, camp, _, _ in spend]
    for row, (channel, campaign, currency, amount) in zip(campaigns, spend, strict=True):
        assert_money(row["spend"], amount, currency)
        for model in MODELS:
            value = value_by_model[(channel, campaign, currency, model)]
            assert_shows(row[f"ROAS {model}"], ratio(value, amount), 2)


def test_creative_figures_equal_the_mart(built: Built, report: RenderedReport) -> None:
    ads = query(
        built.target,
        """
        select platform, ad_id, currency, sum(spend), coalesce(sum(conversion_value), 0)
        from marts.rpt_creative_performance
        group by platform, ad_id, currency
        having sum(spend) > 0
        """,
    )
    by_currency: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for platform, ad_id, currency, spend, value in ads:
        by_currency[currency].append((ratio(value, spend), platform, ad_id, spend, value))
    assert by_currency, "the world's ads spend"
    for currency, ranked in by_currency.items():
        ranked.sort(key=lambda ad: (-ad[0], ad[1], ad[2]))
        top = table(report, "creatives", f"top_ads_{currency}").records()
        bottom = table(report, "creatives", f"bottom_ads_{currency}").records()
        for rows, expected in ((top, ranked[:5]), (bottom, list(reversed(ranked[-5:])))):
            assert len(rows) == len(expected)
            for row, (roas, platform, _, spend, value) in zip(rows, expected, strict=True):
                assert row["platform"] == platform
                assert_money(row["spend"], spend, currency)
                assert_money(row["value"], value, currency)
                assert_shows(row["ROAS"], roas, 2)


def test_pct_figures_equal_the_marts(built: Built, report: RenderedReport) -> None:
    platforms = query(
        built.target,
        """
        select platform, max(baseline_ctr), count(*),
            sum(case when status = 'winner' then 1 else 0 end),
            sum(case when status = 'loser' then 1 else 0 end),
            sum(case when status = 'testing' then 1 else 0 end)
        from marts.rpt_pct_hook_performance
        group by platform
        order by platform
        """,
    )
    shown = table(report, "pct", "hook_platforms").records()
    assert [row["platform"] for row in shown] == [row[0] for row in platforms]
    for row, (_, baseline, hooks, winners, losers, testing) in zip(shown, platforms, strict=True):
        assert_percent(row["baseline CTR"], baseline, 2)
        assert_shows(row["hooks"], hooks, 0)
        assert_shows(row["winners"], winners, 0)
        assert_shows(row["losers"], losers, 0)
        assert_shows(row["testing"], testing, 0)

    winners = query(
        built.target,
        """
        select platform, ctr, ctr_lower, ctr_upper, impressions
        from marts.rpt_pct_hook_performance
        where status = 'winner'
        order by platform, rank, hook_id
        """,
    )
    shown = table(report, "pct", "winning_hooks").records()
    assert len(shown) == len(winners)
    for row, (platform, ctr, lower, upper, impressions) in zip(shown, winners, strict=True):
        assert row["platform"] == platform
        assert_percent(row["CTR"], ctr, 2)
        low, high = row["95% interval"].split(" to ")
        assert_percent(low, lower, 2)
        assert_percent(high, upper, 2)
        assert_shows(row["impressions"], impressions, 0)

    features = query(
        built.target,
        """
        select platform, feature, feature_value, winners, decided_hooks, winner_share
        from marts.rpt_pct_feature_performance
        where decided_hooks > 0 and winner_share > 0
        order by winner_share desc, decided_hooks desc, platform, feature, feature_value
        """,
    )
    shown = table(report, "pct", "winning_features").records()
    assert len(shown) == min(10, len(features))
    for row, (platform, feature, value, wins, decided, share) in zip(shown, features, strict=False):
        assert (row["platform"], row["feature"], row["value"]) == (platform, feature, value)
        assert row["winners / decided"] == f"{wins} / {decided}"
        assert_percent(row["winner share"], share, 0)


def test_mrr_figures_equal_the_mart(built: Built, report: RenderedReport) -> None:
    latest = query(
        built.target,
        """
        select product, currency, month, ending_mrr, new_mrr, expansion_mrr, reactivation_mrr,
            contraction_mrr, churned_mrr, active_subscriptions
        from marts.rpt_mrr_movements as movements
        where month = (
            select max(month) from marts.rpt_mrr_movements as later
            where later.product = movements.product and later.currency = movements.currency
        )
        order by product, currency
        """,
    )
    shown = table(report, "revenue", "mrr_latest").records()
    assert [row["product"] for row in shown] == [row[0] for row in latest]
    for row, (_, currency, month, *amounts, subscriptions) in zip(shown, latest, strict=True):
        assert row["month"] == month.strftime("%Y-%m")
        for header, amount in zip(
            ("ending MRR", "new", "expansion", "reactivation", "contraction", "churned"),
            amounts,
            strict=True,
        ):
            assert_money(row[header], amount, currency)
        assert_shows(row["subscriptions"], subscriptions, 0)


def test_tiktok_figures_equal_the_mart(built: Built, report: RenderedReport) -> None:
    [(videos, days, gained)] = query(
        built.target,
        "select count(distinct video_id), count(distinct snapshot_date), sum(views_gained)"
        " from marts.fct_tiktok_video_daily",
    )
    [row] = table(report, "tiktok", "tiktok_totals").records()
    assert_shows(row["videos"], videos, 0)
    assert_shows(row["snapshot days"], days, 0)
    assert_shows(row["views gained"], gained, 0)
    top = query(
        built.target,
        """
        select video_id, sum(views_gained),
            max(case when snapshot_date = last_day then views end)
        from (
            select video_id, views_gained, views, snapshot_date,
                max(snapshot_date) over (partition by video_id) as last_day
            from marts.fct_tiktok_video_daily
        ) as days
        group by video_id
        order by sum(views_gained) desc, video_id
        limit 5
        """,
    )
    shown = table(report, "tiktok", "tiktok_top_videos").records()
    assert len(shown) == len(top)
    for row, (_, video_gained, views) in zip(shown, top, strict=True):
        assert_shows(row["views gained"], video_gained, 0)
        assert_shows(row["views at last snapshot"], views, 0)


def test_reconciliation_figures_equal_the_mart(built: Built, report: RenderedReport) -> None:
    open_issues = "issue_type not in ('ok', 'awaiting_grant')"
    counts = query(
        built.target,
        f"""
        select issue_type, count(*), count(distinct source_purchase_id)
        from marts.rpt_entitlement_reconciliation
        where {open_issues}
        group by issue_type
        order by issue_type
        """,
    )
    # A bundle's amount repeats on each of its apps: each purchase is at stake once.
    stake = query(
        built.target,
        f"""
        select issue_type, currency, sum(amount)
        from (
            select distinct issue_type, source_purchase_id, currency, amount
            from marts.rpt_entitlement_reconciliation
            where {open_issues} and amount is not null
        ) as purchases
        group by issue_type, currency
        """,
    )
    [(total_issues, total_purchases)] = query(
        built.target,
        "select count(*), count(distinct source_purchase_id)"
        f" from marts.rpt_entitlement_reconciliation where {open_issues}",
    )
    total_stake = query(
        built.target,
        f"""
        select currency, sum(amount)
        from (
            select distinct source_purchase_id, currency, amount
            from marts.rpt_entitlement_reconciliation
            where {open_issues} and amount is not null
        ) as purchases
        group by currency
        order by currency
        """,
    )
    shown = table(report, "reconciliation", "reconciliation_summary").records()
    assert [row["issue"] for row in shown] == [issue for issue, _, _ in counts] + [
        "all open issues"
    ]
    for row, (issue, entitlements, purchases) in zip(shown, counts, strict=False):
        assert_shows(row["entitlements"], entitlements, 0)
        assert_shows(row["purchases"], purchases, 0)
        amounts = sorted((c, a) for i, c, a in stake if i == issue)
        assert_stake(row["at stake"], amounts)
    assert_shows(shown[-1]["entitlements"], total_issues, 0)
    assert_shows(shown[-1]["purchases"], total_purchases, 0)
    assert_stake(shown[-1]["at stake"], total_stake)
    every = table(report, "reconciliation", "reconciliation_issues").records()
    assert len(every) == total_issues
    planted = {
        (f["issue_type"], f["source_purchase_id"], f["app"]) for f in built.manifest["faults"]
    }
    assert {(row["issue"], row["purchase"], row["app"]) for row in every} == planted


def assert_stake(text: str, amounts: list[tuple[str, Any]]) -> None:
    if not amounts:
        assert text == DASH
        return
    parts = text.split("; ")
    assert len(parts) == len(amounts), text
    for part, (currency, amount) in zip(parts, amounts, strict=True):
        assert_money(part, amount, currency)


# --- filters -------------------------------------------------------------------------------------


def test_a_product_page_shows_that_product_only(built: Built, tmp_path: Path) -> None:
    [(product, first, last)] = query(
        built.target,
        "select product, min(activity_date), max(activity_date) from marts.rpt_product_daily"
        " group by product order by count(*) desc, product limit 1",
    )
    since, until = first + (last - first) / 3, last - (last - first) / 3
    page = tmp_path / "product.html"
    page.write_text(render_dashboard(built.target, product, since, until))
    report = parse_report(page)
    assert list(report.sections) == list(SECTION_KEYS)
    for key in ("funnels", "attribution", "pct", "tiktok"):
        section = report.sections[key]
        assert section.status == "not_by_product" and not section.charts and not section.tables
        assert section.panel and "not broken down by product" in section.panel
    [row] = table(report, "product_daily", "product_totals").records()
    [(days, signups, revenue, currency)] = query(
        built.target,
        f"""
        select count(*), sum(signups), sum(stripe_net_revenue), max(currency)
        from marts.rpt_product_daily
        where product = '{product}' and activity_date between '{since}' and '{until}'
        """,
    )
    assert row["product"] == product
    assert_shows(row["days"], days, 0)
    assert_shows(row["signups"], signups, 0)
    assert_money(row["Stripe net revenue"], revenue, currency)
    if "mrr_latest" in report.sections["revenue"].tables:
        assert set(report.sections["revenue"].tables["mrr_latest"].column("product")) == {product}
    issues = report.sections["reconciliation"].tables.get("reconciliation_issues")
    assert issues is None or set(issues.column("app")) == {product}


def test_a_product_without_data_gets_panels_not_errors(built: Built) -> None:
    html = render_dashboard(built.target, "no-such-product", date(2024, 6, 1), date(2024, 6, 2))
    assert html.count('class="no-data"') == len(SECTION_KEYS)
