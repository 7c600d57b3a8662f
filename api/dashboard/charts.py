"""Each section's data as Vega-Altair charts and the few figures printed beside them.

`section_view(data)` turns one `SectionData` into a `SectionView`: charts (Altair objects, not
yet rendered), figure tables (already formatted text), and the message shown instead when the
section has no data. The figures are computed here from the rows the queries returned, so
they say exactly what the charts draw. Money is formatted with its currency's own decimals and
never added across currencies.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import altair as alt
from babel.numbers import get_currency_precision

from api.dashboard.queries import Row, SectionData, SectionStatus

WIDTH = 620
HALF_WIDTH = 330
MODELS = ("first_touch", "last_touch", "linear", "position_based", "time_decay")
MRR_MOVEMENTS = (  # (column, label, sign): inflows stack up, outflows down
    ("new_mrr", "new", 1),
    ("expansion_mrr", "expansion", 1),
    ("reactivation_mrr", "reactivation", 1),
    ("contraction_mrr", "contraction", -1),
    ("churned_mrr", "churned", -1),
)
STATUS_COLORS = {"winner": "#1a9850", "loser": "#d73027", "testing": "#9e9e9e"}
TOP_N = 5
MAX_HOOKS_CHARTED = 30
TIKTOK_VIDEOS_CHARTED = 8
MAX_FEATURES_LISTED = 10
DASH = "—"


@dataclass(frozen=True)
class FigureTable:
    """A small table of figures: `key` names it for readers (and tests) of the page."""

    key: str
    title: str
    headers: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    note: str = ""


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    chart: alt.TopLevelMixin
    caption: str = ""


@dataclass
class SectionView:
    key: str
    title: str
    marts: tuple[str, ...]
    lead: str
    charts: list[Chart] = field(default_factory=list)
    figures: list[FigureTable] = field(default_factory=list)
    message: str = ""  # set when there is nothing to chart: the "no data" panel
    status: SectionStatus = SectionStatus.OK


# --- formatting ---------------------------------------------------------------------------


def currency_decimals(currency: str | None) -> int:
    if not currency:
        return 2
    try:
        return int(get_currency_precision(currency))
    except Exception:  # an unknown code: show cents rather than fail the page
        return 2


def money(amount: Decimal | float | None, currency: str | None) -> str:
    """`12,345.67 USD` (JPY without decimals, KWD with three); `—` when unknown."""
    if amount is None:
        return DASH
    places = currency_decimals(currency)
    text = f"{Decimal(str(amount)):,.{places}f}"
    return f"{text} {currency}" if currency else text


def number(value: float | Decimal | int | None, places: int = 0) -> str:
    if value is None:
        return DASH
    return f"{Decimal(str(value)):,.{places}f}"


def ratio(value: float | Decimal | None) -> str:
    """A ratio such as ROAS, two decimals."""
    return number(value, 2)


def percent(value: float | Decimal | None, places: int = 2) -> str:
    if value is None:
        return DASH
    return f"{Decimal(str(value)) * 100:,.{places}f}%"


def hours(seconds: float | None) -> str:
    if seconds is None:
        return DASH
    return f"{Decimal(str(seconds)) / 3600:,.1f} h"


def divide(numerator: Decimal | float | None, denominator: Decimal | float | None) -> Any:
    """numerator / denominator, None when the denominator is 0 or unknown."""
    if numerator is None or not denominator:
        return None
    if isinstance(numerator, Decimal) or isinstance(denominator, Decimal):
        return Decimal(str(numerator)) / Decimal(str(denominator))
    return numerator / denominator


def total(rows: Iterable[Row], column: str) -> Any:
    """Σ column over rows, ignoring nulls (Decimal stays Decimal); 0 when all are null."""
    values = [row[column] for row in rows if row[column] is not None]
    return sum(values[1:], values[0]) if values else 0


def plain(value: Any) -> Any:
    """A value Vega-Lite can read from inline JSON."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def inline(rows: Iterable[dict[str, Any]]) -> alt.Data:
    return alt.Data(values=[{k: plain(v) for k, v in row.items()} for row in rows])


def short(text: str | None, limit: int = 42) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def group(rows: Iterable[Row], *columns: str) -> dict[tuple[Any, ...], list[Row]]:
    groups: dict[tuple[Any, ...], list[Row]] = defaultdict(list)
    for row in rows:
        groups[tuple(row[c] for c in columns)].append(row)
    return dict(groups)


def currencies(rows: Iterable[Row], column: str = "currency") -> list[str]:
    return sorted({row[column] for row in rows if row[column]})


# --- sections -----------------------------------------------------------------------------


def product_daily(data: SectionData, view: SectionView) -> None:
    rows = data.rows("daily")
    metrics: list[tuple[str, Callable[[Row], Any]]] = [
        ("Active persons", lambda r: r["active_persons"]),
        ("Signups", lambda r: r["signups"]),
        ("Purchases", lambda r: r["purchases"]),
        ("Stripe net revenue ({currency})", lambda r: r["stripe_net_revenue"]),
        ("Ad spend ({currency})", lambda r: r["ad_spend"]),
        ("ROAS (last touch)", lambda r: r["roas"]),
        ("AI cost (USD)", lambda r: r["ai_cost_usd"]),
    ]
    long_rows: list[dict[str, Any]] = []
    order: list[str] = []
    for label, pick in metrics:
        for currency in currencies(rows) if "{currency}" in label else [""]:
            metric = label.format(currency=currency)
            order.append(metric)
            long_rows += [
                {"product": r["product"], "day": r["activity_date"], "metric": metric, "value": v}
                for r in rows
                if (not currency or r["currency"] == currency) and (v := pick(r)) is not None
            ]
    chart = (
        alt.Chart(inline(long_rows))
        .mark_line(point=alt.OverlayMarkDef(size=12), strokeWidth=1.5)
        .encode(
            x=alt.X("utcyearmonthdate(day):T", title=None),
            y=alt.Y("value:Q", title=None),
            color=alt.Color("product:N", title="product"),
        )
        .properties(width=WIDTH, height=80)
        .facet(
            row=alt.Row(
                "metric:N",
                sort=order,
                title=None,
                header=alt.Header(labelAngle=0, labelAlign="left"),
            )
        )
        .resolve_scale(y="independent")
    )
    view.charts.append(
        Chart("product_daily", "Per product and day", chart, "Each metric on its own scale.")
    )
    figures: list[tuple[str, ...]] = []
    for (product, currency), days in sorted(group(rows, "product", "currency").items()):
        spend = total(days, "ad_spend")
        figures.append(
            (
                product,
                number(len(days)),
                number(max(r["active_persons"] for r in days)),
                number(total(days, "signups")),
                number(total(days, "purchases")),
                money(total(days, "stripe_net_revenue"), currency),
                number(total(days, "charges_in_other_currencies")),
                money(spend, currency),
                ratio(divide(total(days, "last_touch_attributed_value"), spend)),
                money(total(days, "ai_cost_usd"), "USD"),
            )
        )
    view.figures.append(
        FigureTable(
            "product_totals",
            "Per product over the period",
            (
                "product",
                "days",
                "peak active persons",
                "signups",
                "purchases",
                "Stripe net revenue",
                "charges in other currencies",
                "ad spend",
                "ROAS",
                "AI cost",
            ),
            figures,
            "Money in the reporting currency: charges in other currencies are counted apart, "
            "not converted. ROAS = last-touch attributed value ÷ ad spend over the period.",
        )
    )


def funnels(data: SectionData, view: SectionView) -> None:
    rows = data.rows("steps")
    figures: list[tuple[str, ...]] = []
    for (funnel,), funnel_rows in sorted(group(rows, "funnel_name").items()):
        steps = sorted(
            group(funnel_rows, "step_index", "step_name").items(), key=lambda item: item[0][0]
        )
        totals = []
        previous = None
        entered = total(steps[0][1], "persons") if steps else 0
        for (index, name), cohort_rows in steps:
            persons = total(cohort_rows, "persons")
            medians = [
                r["median_seconds_from_previous"]
                for r in cohort_rows
                if r["median_seconds_from_previous"] is not None
            ]
            totals.append(
                {
                    "step": f"{index}. {name}",
                    "persons": persons,
                    "from_start": divide(persons, entered),
                    "from_previous": divide(persons, previous) if index > 1 else 1.0,
                    "median": statistics.median(medians) if medians else None,
                }
            )
            previous = persons
        for step in totals:
            figures.append(
                (
                    funnel,
                    step["step"],
                    number(step["persons"]),
                    percent(step["from_start"], 1),
                    percent(step["from_previous"], 1),
                    hours(step["median"]),
                )
            )
        step_order = [step["step"] for step in totals]
        bars = (
            alt.Chart(inline(totals))
            .mark_bar(color="#4c78a8")
            .encode(
                y=alt.Y("step:N", sort=step_order, title=None),
                x=alt.X("persons:Q", title="persons (all cohorts)"),
            )
            .properties(width=260, height=alt.Step(22))
        )
        labels = bars.mark_text(align="left", dx=3, fontSize=10).encode(
            text=alt.Text("from_start:Q", format=".1%")
        )
        heat = (
            alt.Chart(
                inline(
                    {**r, "step": f"{r['step_index']}. {r['step_name']}"}
                    for r in funnel_rows
                    if r["conversion_from_start"] is not None
                )
            )
            .mark_rect()
            .encode(
                x=alt.X(
                    "utcyearmonthdate(cohort_date):O",
                    title="entry cohort (day)",
                    axis=alt.Axis(labels=False, ticks=False),
                ),
                y=alt.Y("step:N", sort=step_order, title=None, axis=None),
                color=alt.Color(
                    "conversion_from_start:Q",
                    title="from start",
                    scale=alt.Scale(scheme="blues", domain=[0, 1]),
                    legend=alt.Legend(format=".0%"),
                ),
            )
            .properties(width=260, height=alt.Step(22))
        )
        view.charts.append(
            Chart(
                f"funnel_{funnel}",
                f"Funnel {funnel}",
                alt.hconcat(bars + labels, heat),
                "Bars: persons reaching each step, labelled with conversion from entry; "
                "cells: each day's entry cohort.",
            )
        )
    view.figures.append(
        FigureTable(
            "funnel_steps",
            "Conversion by step, all cohorts of the period",
            ("funnel", "step", "persons", "from start", "from previous", "median time"),
            figures,
            "Median time from the previous step: the median over the cohorts' medians.",
        )
    )


def attribution(data: SectionData, view: SectionView) -> None:
    by_channel = data.rows("by_channel")
    conversions: dict[tuple[str, str], Any] = defaultdict(float)
    for row in by_channel:
        conversions[(row["model"], row["channel"])] += float(row["conversions"] or 0)
    model_sort = list(MODELS)
    grouped = (
        alt.Chart(
            inline(
                {"model": model, "channel": channel, "conversions": value}
                for (model, channel), value in conversions.items()
            )
        )
        .mark_bar()
        .encode(
            x=alt.X("channel:N", title=None, axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("model:N", sort=model_sort),
            y=alt.Y("conversions:Q", title="conversions credited"),
            color=alt.Color("model:N", sort=model_sort, title="model"),
        )
        .properties(width=HALF_WIDTH, height=170)
    )
    view.charts.append(Chart("conversions_by_channel", "Conversions by channel", grouped))
    valued = [r for r in by_channel if r["currency"]]
    for currency in currencies(valued):
        chart = (
            alt.Chart(inline(r for r in valued if r["currency"] == currency))
            .mark_bar()
            .encode(
                x=alt.X("channel:N", title=None, axis=alt.Axis(labelAngle=0)),
                xOffset=alt.XOffset("model:N", sort=model_sort),
                y=alt.Y("attributed_value:Q", title=f"attributed value ({currency})"),
                color=alt.Color("model:N", sort=model_sort, title="model"),
            )
            .properties(width=HALF_WIDTH, height=170)
        )
        view.charts.append(
            Chart(f"value_by_channel_{currency}", f"Attributed value by channel, {currency}", chart)
        )
    model_figures = []
    for model in [m for m in MODELS if any(r["model"] == m for r in by_channel)]:
        rows = [r for r in by_channel if r["model"] == model]
        model_figures.append(
            (
                model,
                number(sum(float(r["conversions"] or 0) for r in rows), 1),
                *(
                    money(total([r for r in rows if r["currency"] == c], "attributed_value"), c)
                    for c in currencies(valued)
                ),
            )
        )
    view.figures.append(
        FigureTable(
            "attribution_models",
            "Each model over the period",
            ("model", "conversions", *(f"value {c}" for c in currencies(valued))),
            model_figures,
            "Every model credits the same conversions and value; they differ in which "
            "channel gets it.",
        )
    )

    campaigns = data.rows("by_campaign")
    if not campaigns:
        return
    campaign_rows = []
    for (channel, campaign, currency), rows in sorted(
        group(campaigns, "channel", "campaign_id", "currency").items(),
        key=lambda item: tuple(str(part) for part in item[0]),
    ):
        by_model = {r["model"]: r for r in rows}
        spend = rows[0]["spend"]  # the same on every model's rows
        campaign_rows.append(
            {
                "campaign": f"{channel} {campaign}",
                "currency": currency,
                "spend": spend,
                **{m: divide(by_model[m]["attributed_value"], spend) for m in by_model},
            }
        )
    for currency in currencies(campaign_rows):
        rows = [r for r in campaign_rows if r["currency"] == currency]
        order = [r["campaign"] for r in sorted(rows, key=lambda r: -float(r["spend"]))]
        spend_bars = (
            alt.Chart(inline(rows))
            .mark_bar(color="#9ecae9")
            .encode(
                y=alt.Y("campaign:N", sort=order, title=None),
                x=alt.X("spend:Q", title=f"spend ({currency})"),
            )
            .properties(width=240, height=alt.Step(20))
        )
        roas_points = (
            alt.Chart(
                inline(
                    {"campaign": r["campaign"], "model": m, "roas": r[m]}
                    for r in rows
                    for m in MODELS
                    if r.get(m) is not None
                )
            )
            .mark_point(filled=True, size=50)
            .encode(
                y=alt.Y("campaign:N", sort=order, title=None, axis=alt.Axis(labels=False)),
                x=alt.X("roas:Q", title="ROAS"),
                color=alt.Color("model:N", sort=model_sort, title="model"),
            )
            .properties(width=300, height=alt.Step(20))
        )
        view.charts.append(
            Chart(
                f"campaigns_{currency}",
                f"Spend and ROAS by campaign, {currency}",
                alt.hconcat(spend_bars, roas_points),
                "ROAS = value attributed to the campaign ÷ its spend, under each model.",
            )
        )
    view.figures.append(
        FigureTable(
            "campaigns",
            "Campaigns with spend",
            ("campaign", "spend", *(f"ROAS {m}" for m in MODELS)),
            [
                (
                    r["campaign"],
                    money(r["spend"], r["currency"]),
                    *(ratio(r.get(m)) for m in MODELS),
                )
                for r in campaign_rows
            ],
        )
    )


def creative_ranking(ads: Sequence[Row]) -> list[Row]:
    """Ads with spend, best ROAS first (ties by platform and ad id)."""
    spent = [
        {**ad, "roas": divide(ad["conversion_value"] or Decimal(0), ad["spend"])}
        for ad in ads
        if ad["spend"] and ad["spend"] > 0
    ]
    return sorted(spent, key=lambda ad: (-ad["roas"], ad["platform"], ad["ad_id"]))


def creatives(data: SectionData, view: SectionView) -> None:
    ranked = creative_ranking(data.rows("ads"))
    if not ranked:
        view.message = "No ad with spend in this period."
        return
    for currency in currencies(ranked):
        ads = [ad for ad in ranked if ad["currency"] == currency]
        top = {ad["ad_id"] for ad in ads[:TOP_N]}
        bottom = {ad["ad_id"] for ad in ads[-TOP_N:]} - top
        points = [
            {
                **ad,
                "label": short(ad["ad_name"] or ad["ad_id"], 28),
                "rank": "top"
                if ad["ad_id"] in top
                else "bottom"
                if ad["ad_id"] in bottom
                else "other",
            }
            for ad in ads
        ]
        base = alt.Chart(inline(points)).encode(
            x=alt.X("spend:Q", title=f"spend ({currency})"),
            y=alt.Y("roas:Q", title="ROAS (last touch)"),
        )
        scatter = base.mark_point(filled=True, size=60, opacity=0.8).encode(
            color=alt.Color(
                "rank:N",
                title=f"top / bottom {TOP_N}",
                scale=alt.Scale(
                    domain=["top", "other", "bottom"], range=["#1a9850", "#bdbdbd", "#d73027"]
                ),
            ),
            shape=alt.Shape("platform:N", title="platform"),
        )
        names = (
            base.transform_filter(alt.datum.rank == "top")
            .mark_text(align="left", dx=6, fontSize=9)
            .encode(text="label:N")
        )
        view.charts.append(
            Chart(
                f"creatives_{currency}",
                f"ROAS against spend per ad, {currency}",
                (scatter + names).properties(width=WIDTH, height=260),
                "Every ad with spend in the period; the top ads are named.",
            )
        )

    def ad_rows(ads: Sequence[Row]) -> list[tuple[str, ...]]:
        return [
            (
                short(ad["ad_name"] or ad["ad_id"], 36),
                ad["platform"],
                money(ad["spend"], ad["currency"]),
                money(ad["conversion_value"] or 0, ad["currency"]),
                ratio(ad["roas"]),
            )
            for ad in ads
        ]

    headers = ("ad", "platform", "spend", "value", "ROAS")
    for currency in currencies(ranked):
        ads = [ad for ad in ranked if ad["currency"] == currency]
        view.figures.append(
            FigureTable(
                f"top_ads_{currency}",
                f"Top {TOP_N} by ROAS, {currency}",
                headers,
                ad_rows(ads[:TOP_N]),
            )
        )
        view.figures.append(
            FigureTable(
                f"bottom_ads_{currency}",
                f"Bottom {TOP_N} by ROAS, {currency}",
                headers,
                ad_rows(list(reversed(ads[-TOP_N:]))),
                f"{len(ads)} ads with spend; total spend {money(total(ads, 'spend'), currency)}.",
            )
        )


def pct(data: SectionData, view: SectionView) -> None:
    hooks = [h for h in data.rows("hooks") if h["impressions"]]
    for (platform,), platform_hooks in sorted(group(hooks, "platform").items()):
        shown = platform_hooks[:MAX_HOOKS_CHARTED]  # rows come by rank
        points = [
            {**h, "hook": f"{h['rank']}. {short(h['hook_text'] or h['hook_id'], 40)}"}
            for h in shown
        ]
        order = [p["hook"] for p in points]
        base = alt.Chart(inline(points)).encode(
            y=alt.Y("hook:N", sort=order, title=None, axis=alt.Axis(labelLimit=260))
        )
        status = alt.Color(
            "status:N",
            title="status",
            scale=alt.Scale(domain=list(STATUS_COLORS), range=list(STATUS_COLORS.values())),
        )
        interval = base.mark_rule(strokeWidth=2).encode(
            x=alt.X(
                "ctr_lower:Q", title="CTR with its 95% Wilson interval", axis=alt.Axis(format=".1%")
            ),
            x2="ctr_upper:Q",
            color=status,
        )
        point = base.mark_point(filled=True, size=40).encode(x="ctr:Q", color=status)
        baseline = (
            alt.Chart(inline([{"baseline": shown[0]["baseline_ctr"]}]))
            .mark_rule(strokeDash=[4, 3], color="#333")
            .encode(x="baseline:Q")
        )
        more = len(platform_hooks) - len(shown)
        view.charts.append(
            Chart(
                f"hooks_{platform}",
                f"Hooks on {platform}",
                (interval + point + baseline).properties(width=380, height=alt.Step(16)),
                "Dashed line: the platform's baseline CTR (all hooks pooled). A winner's whole "
                "interval is above it, a loser's below."
                + (f" The {more} lowest-ranked hooks are not drawn." if more > 0 else ""),
            )
        )
    features = [f for f in data.rows("features") if f["decided_hooks"]]
    if features:
        chart = (
            alt.Chart(
                inline({**f, "value": f"{f['feature']}: {f['feature_value']}"} for f in features)
            )
            .mark_bar()
            .encode(
                y=alt.Y(
                    "value:N",
                    title=None,
                    sort=alt.EncodingSortField("winner_share", order="descending"),
                ),
                x=alt.X(
                    "winner_share:Q",
                    title="winners among decided hooks",
                    axis=alt.Axis(format=".0%"),
                    scale=alt.Scale(domain=[0, 1]),
                ),
                color=alt.Color("platform:N", title="platform"),
                yOffset=alt.YOffset("platform:N"),
            )
            .properties(width=380, height=alt.Step(9))
        )
        view.charts.append(
            Chart(
                "hook_features",
                "Features that win",
                chart,
                "Feature values with at least one decided hook.",
            )
        )
    summary = []
    for (platform,), platform_hooks in sorted(group(data.rows("hooks"), "platform").items()):
        statuses = [h["status"] for h in platform_hooks]
        summary.append(
            (
                platform,
                percent(platform_hooks[0]["baseline_ctr"]),
                number(len(platform_hooks)),
                number(statuses.count("winner")),
                number(statuses.count("loser")),
                number(statuses.count("testing")),
            )
        )
    view.figures.append(
        FigureTable(
            "hook_platforms",
            "Per platform",
            ("platform", "baseline CTR", "hooks", "winners", "losers", "testing"),
            summary,
        )
    )
    winners = [h for h in data.rows("hooks") if h["status"] == "winner"]
    view.figures.append(
        FigureTable(
            "winning_hooks",
            "Winning hooks",
            ("platform", "hook", "CTR", "95% interval", "impressions"),
            [
                (
                    h["platform"],
                    short(h["hook_text"] or h["hook_id"], 48),
                    percent(h["ctr"]),
                    f"{percent(h['ctr_lower'])} to {percent(h['ctr_upper'])}",
                    number(h["impressions"]),
                )
                for h in winners
            ],
        )
    )
    best = sorted(
        (f for f in features if f["winner_share"]),
        key=lambda f: (
            -f["winner_share"],
            -f["decided_hooks"],
            f["platform"],
            f["feature"],
            f["feature_value"],
        ),
    )
    view.figures.append(
        FigureTable(
            "winning_features",
            "Features that win",
            ("platform", "feature", "value", "winners / decided", "winner share"),
            [
                (
                    f["platform"],
                    f["feature"],
                    f["feature_value"],
                    f"{f['winners']} / {f['decided_hooks']}",
                    percent(f["winner_share"], 0),
                )
                for f in best[:MAX_FEATURES_LISTED]
            ],
            "All time: PCT hooks are judged on everything they have run.",
        )
    )


def revenue(data: SectionData, view: SectionView) -> None:
    rows = data.rows("months")
    for currency in currencies(rows):
        months = [r for r in rows if r["currency"] == currency]
        movements = [
            {
                "product": r["product"],
                "month": r["month"].strftime("%Y-%m"),
                "movement": label,
                "mrr": sign * float(r[column] or 0),
            }
            for r in months
            for column, label, sign in MRR_MOVEMENTS
            if r[column]
        ]
        ending = [
            {
                "product": r["product"],
                "month": r["month"].strftime("%Y-%m"),
                "ending": r["ending_mrr"],
            }
            for r in months
        ]
        labels = [label for _, label, _ in MRR_MOVEMENTS]
        colors = ["#2ca02c", "#98df8a", "#17becf", "#ff9896", "#d62728"]
        width = max(120, 60 * len({r["month"] for r in months}))
        per_product = []
        for product in sorted({r["product"] for r in months}):
            bars = (
                alt.Chart(inline(m for m in movements if m["product"] == product))
                .transform_calculate(movement_order=f"indexof({labels!r}, datum.movement)")
                .mark_bar()
                .encode(
                    x=alt.X("month:O", title=None, axis=alt.Axis(labelAngle=0)),
                    y=alt.Y("sum(mrr):Q", title=f"MRR ({currency})"),
                    color=alt.Color(
                        "movement:N", sort=labels, scale=alt.Scale(domain=labels, range=colors)
                    ),
                    order=alt.Order("movement_order:Q"),
                )
            )
            line = (
                alt.Chart(inline(e for e in ending if e["product"] == product))
                .mark_line(point=alt.OverlayMarkDef(color="#333"), color="#333")
                .encode(x="month:O", y="ending:Q")
            )
            per_product.append((bars + line).properties(title=product, width=width, height=200))
        view.charts.append(
            Chart(
                f"mrr_{currency}",
                f"MRR movements per month, {currency}",
                alt.hconcat(*per_product),
                "Bars: MRR added (new, expansion, reactivation) above zero and lost "
                "(contraction, churned) below; line: ending MRR.",
            )
        )
    latest = []
    for (product, currency), product_months in sorted(group(rows, "product", "currency").items()):
        last = max(product_months, key=lambda r: r["month"])
        latest.append(
            (
                product,
                last["month"].strftime("%Y-%m"),
                money(last["ending_mrr"], currency),
                money(last["new_mrr"], currency),
                money(last["expansion_mrr"], currency),
                money(last["reactivation_mrr"], currency),
                money(last["contraction_mrr"], currency),
                money(last["churned_mrr"], currency),
                number(last["active_subscriptions"]),
            )
        )
    view.figures.append(
        FigureTable(
            "mrr_latest",
            "Latest month per product",
            (
                "product",
                "month",
                "ending MRR",
                "new",
                "expansion",
                "reactivation",
                "contraction",
                "churned",
                "subscriptions",
            ),
            latest,
        )
    )


def video_titles(per_video: dict[tuple[Any, ...], list[Row]]) -> dict[str, str]:
    """Each video's latest title, shortened; the id's tail added where titles collide."""
    titles = {
        video: short(max(rows, key=lambda r: r["snapshot_date"])["title"] or video, 30)
        for (video,), rows in per_video.items()
    }
    counts: dict[str, int] = defaultdict(int)
    for title in titles.values():
        counts[title] += 1
    return {
        video: f"{title} (…{video[-4:]})" if counts[title] > 1 else title
        for video, title in titles.items()
    }


def tiktok(data: SectionData, view: SectionView) -> None:
    days = data.rows("days")
    per_video = group(days, "video_id")
    gains = {video: total(rows, "views_gained") for (video,), rows in per_video.items()}
    ranked = sorted(gains, key=lambda video: (-gains[video], video))
    charted = set(ranked[:TIKTOK_VIDEOS_CHARTED])
    titles = video_titles(per_video)
    bars = [
        {
            "day": r["snapshot_date"],
            "video": titles[r["video_id"]] if r["video_id"] in charted else "other videos",
            "views_gained": r["views_gained"],
        }
        for r in days
    ]
    chart = (
        alt.Chart(inline(bars))
        .mark_bar()
        .encode(
            x=alt.X("utcyearmonthdate(day):O", title=None),
            y=alt.Y("sum(views_gained):Q", title="views gained"),
            color=alt.Color("video:N", title="video"),
        )
        .properties(width=WIDTH, height=220)
    )
    view.charts.append(
        Chart(
            "tiktok_views",
            "Daily view gains per video",
            chart,
            "A video's first snapshot day gains all its views so far.",
        )
    )
    view.figures.append(
        FigureTable(
            "tiktok_totals",
            "Over the period",
            ("videos", "snapshot days", "views gained"),
            [
                (
                    number(len(per_video)),
                    number(len({r["snapshot_date"] for r in days})),
                    number(total(days, "views_gained")),
                )
            ],
        )
    )
    view.figures.append(
        FigureTable(
            "tiktok_top_videos",
            f"Top {TOP_N} videos by views gained",
            ("video", "views gained", "views at last snapshot"),
            [
                (
                    titles[video],
                    number(gains[video]),
                    number(max(per_video[(video,)], key=lambda r: r["snapshot_date"])["views"]),
                )
                for video in ranked[:TOP_N]
            ],
        )
    )


def at_stake(issues: Iterable[Row]) -> dict[str, Decimal]:
    """Money at stake per currency: each purchase once (its amount repeats on each app)."""
    purchases = {
        (r["source_purchase_id"], r["currency"]): r["amount"]
        for r in issues
        if r["amount"] is not None
    }
    stake: dict[str, Decimal] = defaultdict(Decimal)
    for (_, currency), amount in purchases.items():
        stake[currency] += amount
    return dict(sorted(stake.items()))


def reconciliation(data: SectionData, view: SectionView) -> None:
    issues = data.rows("issues")
    checked = {r["issue_type"]: r for r in data.rows("by_type")}
    if not issues:
        view.message = (
            f"No open issues: {number(sum(r['entitlements'] for r in checked.values()))} "
            "expected or found entitlements checked."
        )
        return
    by_type = group(issues, "issue_type")
    bars = [
        {"issue": issue, "currency": currency, "at_stake": amount}
        for (issue,), rows in by_type.items()
        for currency, amount in at_stake(rows).items()
    ]
    if bars:
        chart = (
            alt.Chart(inline(bars))
            .mark_bar(color="#d73027")
            .encode(
                y=alt.Y("issue:N", title=None),
                x=alt.X("at_stake:Q", title="money at stake"),
                row=alt.Row("currency:N", title=None),
            )
            .properties(width=360, height=alt.Step(22))
            .resolve_scale(x="independent")
        )
        view.charts.append(
            Chart(
                "reconciliation_at_stake",
                "Money at stake by issue",
                chart,
                "Each purchase counted once.",
            )
        )
    totals = at_stake(issues)
    view.figures.append(
        FigureTable(
            "reconciliation_summary",
            "Open issues",
            ("issue", "entitlements", "purchases", "at stake"),
            [
                (
                    issue,
                    number(len(rows)),
                    number(len({r["source_purchase_id"] for r in rows})),
                    "; ".join(money(a, c) for c, a in at_stake(rows).items()) or DASH,
                )
                for (issue,), rows in sorted(by_type.items())
            ]
            + [
                (
                    "all open issues",
                    number(len(issues)),
                    number(len({r["source_purchase_id"] for r in issues})),
                    "; ".join(money(a, c) for c, a in totals.items()) or DASH,
                )
            ],
            f"{number(checked['ok']['entitlements']) if 'ok' in checked else 0} entitlements are fine.",
        )
    )
    view.figures.append(
        FigureTable(
            "reconciliation_issues",
            "Every open issue",
            ("issue", "purchase", "app", "user", "entitlement", "amount", "detected"),
            [
                (
                    r["issue_type"],
                    r["source_purchase_id"],
                    r["app"],
                    r["user_id"] or r["email"] or DASH,
                    f"{r['entitlement_id']} ({r['status']})" if r["entitlement_id"] else "missing",
                    money(r["amount"], r["currency"]),
                    r["detected_at"].strftime("%Y-%m-%d %H:%M UTC") if r["detected_at"] else DASH,
                )
                for r in issues
            ],
        )
    )


LEADS = {
    "product_daily": "Active persons, signups, purchases, Stripe net revenue, ad spend, ROAS "
    "and AI cost for each product and day.",
    "funnels": "How many people reach each configured funnel step, by entry cohort, and how fast.",
    "attribution": "Conversions and value by channel under each of the five attribution models, "
    "and what each campaign returned on its spend.",
    "creatives": "What each ad returned on its spend (last-touch conversions).",
    "pct": "Each PCT hook's CTR with its 95% Wilson interval against the platform's baseline, "
    "and the hook features that win.",
    "revenue": "Monthly recurring revenue: what each movement added or took away, and the "
    "ending MRR.",
    "tiktok": "Organic TikTok views gained per video and day.",
    "reconciliation": "Bundle purchases whose entitlements are wrong, with the money at stake.",
}
BUILDERS: dict[str, Callable[[SectionData, SectionView], None]] = {
    "product_daily": product_daily,
    "funnels": funnels,
    "attribution": attribution,
    "creatives": creatives,
    "pct": pct,
    "revenue": revenue,
    "tiktok": tiktok,
    "reconciliation": reconciliation,
}


def no_data_message(data: SectionData) -> str:
    marts = ", ".join(f"marts.{m}" for m in data.spec.marts[:1])
    if data.status is SectionStatus.EMPTY:
        return f"No data yet: {marts} has no rows. It fills once the sources are ingested and the dbt build has run."
    if data.status is SectionStatus.FILTERED_OUT:
        return f"No data for {data.filters.describe()}: {marts} has rows, none of them match."
    if data.status is SectionStatus.NOT_BY_PRODUCT:
        return f"Not shown for one product: {marts} is not broken down by product."
    if data.status is SectionStatus.NOT_ALLOWED:
        return f"Not shown: this key may not read {', '.join(data.spec.marts)}."
    return f"No data: {marts} could not be read ({data.detail})."


def section_view(data: SectionData) -> SectionView:
    spec = data.spec
    view = SectionView(spec.key, spec.title, spec.marts, LEADS[spec.key], status=data.status)
    if data.status is not SectionStatus.OK:
        view.message = no_data_message(data)
        return view
    BUILDERS[spec.key](data, view)
    return view
