"""The marts as plain data, one `SectionData` per dashboard section.

Every query reads only `marts.*`, binds the filters as parameters and reads the same on
DuckDB and PostgreSQL. Filters apply where a section's mart has the dimension:

- `product`: `rpt_product_daily.product`, `rpt_mrr_movements.product`,
  `rpt_entitlement_reconciliation.app`, and the creatives of the ads a product published
  (`dim_ads.published_by_product`). The funnels, attribution, PCT and TikTok marts are not
  broken down by product, so with a product filter those sections show no data at all
  (`SectionStatus.NOT_BY_PRODUCT`): a page for one product never shows another's numbers.
- `since` / `until` (inclusive UTC dates): each section's date column; months of MRR that
  overlap the range; the day a reconciliation issue became detectable. The PCT marts are
  all-time aggregates and ignore the range.

Money stays beside its `currency`; nothing here adds amounts across currencies.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

Row = dict[str, Any]


class InvalidFilters(ValueError):
    """The filters cannot describe a page: `the range starts (…) after it ends (…)`."""


@dataclass(frozen=True)
class Filters:
    """What one page shows: one product (slug) or all, and an inclusive range of UTC dates."""

    product: str | None = None
    since: date | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise InvalidFilters(f"the range starts ({self.since}) after it ends ({self.until})")

    def describe(self) -> str:
        product = f"product {self.product}" if self.product else "all products"
        if self.since or self.until:
            dates = f"{self.since or 'the start'} to {self.until or 'today'}"
        else:
            dates = "all dates"
        return f"{product}, {dates}"


class SectionStatus(enum.Enum):
    OK = "ok"
    EMPTY = "empty"  # the mart has no rows yet
    FILTERED_OUT = "filtered_out"  # rows exist, none match the filters
    NOT_BY_PRODUCT = "not_by_product"  # the mart has no product dimension
    UNAVAILABLE = "unavailable"  # the query failed (e.g. the mart was never built)
    NOT_ALLOWED = "not_allowed"  # the reader (a read API key) may not read its marts


@dataclass(frozen=True)
class Query:
    """One result set of a section: `sql` with a `{where}` slot (or `{and_where}` after its own
    `where`), and how the filters map.

    `product` and `since`/`until` are SQL predicates with a `{}` slot for the bound value;
    None means the filter does not apply to this query."""

    name: str
    sql: str
    product: str | None = None
    since: str | None = None
    until: str | None = None
    # Marts' dates compare with dates; timestamps with the UTC instant starting the day.
    timestamps: bool = False
    month_start: bool = False


@dataclass(frozen=True)
class SectionSpec:
    key: str
    title: str
    marts: tuple[str, ...]
    queries: tuple[Query, ...]
    by_product: bool = True
    dated: bool = True


@dataclass
class SectionData:
    spec: SectionSpec
    filters: Filters
    status: SectionStatus
    results: dict[str, list[Row]] = field(default_factory=dict)
    detail: str = ""

    def rows(self, name: str) -> list[Row]:
        return self.results.get(name, [])


SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec(
        "product_daily",
        "Products by day",
        ("rpt_product_daily",),
        (
            Query(
                "daily",
                """
                select product, activity_date, active_persons, new_persons, signups, purchases,
                    currency, stripe_net_revenue, charges_in_other_currencies, ad_spend,
                    last_touch_attributed_value, roas, ai_cost_usd
                from marts.rpt_product_daily
                {where}
                order by product, activity_date
                """,
                product="product = {}",
                since="activity_date >= {}",
                until="activity_date <= {}",
            ),
        ),
    ),
    SectionSpec(
        "funnels",
        "Funnels",
        ("rpt_funnel_conversion",),
        (
            Query(
                "steps",
                """
                select funnel_name, cohort_date, step_index, step_name, persons,
                    conversion_from_start, conversion_from_previous,
                    median_seconds_from_previous
                from marts.rpt_funnel_conversion
                {where}
                order by funnel_name, cohort_date, step_index
                """,
                since="cohort_date >= {}",
                until="cohort_date <= {}",
            ),
        ),
        by_product=False,
    ),
    SectionSpec(
        "attribution",
        "Attribution",
        ("rpt_channel_attribution",),
        (
            Query(
                "by_channel",
                """
                select model, channel, currency, sum(conversions) as conversions,
                    sum(attributed_value) as attributed_value
                from marts.rpt_channel_attribution
                {where}
                group by model, channel, currency
                order by model, channel, currency
                """,
                since="conversion_date >= {}",
                until="conversion_date <= {}",
            ),
            # A campaign's spend is repeated on each model's rows: sum it within one model.
            Query(
                "by_campaign",
                """
                select model, channel, campaign_id, currency, sum(spend) as spend,
                    sum(attributed_value) as attributed_value, sum(conversions) as conversions
                from marts.rpt_channel_attribution
                {where}
                group by model, channel, campaign_id, currency
                having sum(spend) > 0
                order by channel, campaign_id, currency, model
                """,
                since="conversion_date >= {}",
                until="conversion_date <= {}",
            ),
        ),
        by_product=False,
    ),
    SectionSpec(
        "creatives",
        "Creatives",
        ("rpt_creative_performance", "dim_ads"),
        (
            Query(
                "ads",
                """
                select perf.platform, perf.ad_id, max(perf.ad_name) as ad_name,
                    max(perf.hook_id) as hook_id, perf.currency,
                    sum(perf.impressions) as impressions, sum(perf.clicks) as clicks,
                    sum(perf.spend) as spend, sum(perf.conversions) as conversions,
                    sum(perf.conversion_value) as conversion_value
                from marts.rpt_creative_performance as perf
                {where}
                group by perf.platform, perf.ad_id, perf.currency
                order by perf.platform, perf.ad_id, perf.currency
                """,
                product="""exists (
                    select 1 from marts.dim_ads as ads
                    where ads.platform = perf.platform and ads.ad_id = perf.ad_id
                        and ads.published_by_product = {}
                )""",
                since="perf.report_date >= {}",
                until="perf.report_date <= {}",
            ),
        ),
    ),
    SectionSpec(
        "pct",
        "PCT hooks",
        ("rpt_pct_hook_performance", "rpt_pct_feature_performance"),
        (
            Query(
                "hooks",
                """
                select platform, hook_id, hook_text, awareness_level, angle, template, ads,
                    impressions, clicks, spend, currency, ctr, ctr_lower, ctr_upper,
                    baseline_ctr, status, rank
                from marts.rpt_pct_hook_performance
                {where}
                order by platform, rank, hook_id
                """,
            ),
            Query(
                "features",
                """
                select platform, feature, feature_value, hooks, decided_hooks, winners, losers,
                    winner_share, impressions, clicks, ctr, ctr_lower, ctr_upper, baseline_ctr
                from marts.rpt_pct_feature_performance
                {where}
                order by platform, feature, feature_value
                """,
            ),
        ),
        by_product=False,
        dated=False,
    ),
    SectionSpec(
        "revenue",
        "Revenue (MRR)",
        ("rpt_mrr_movements",),
        (
            Query(
                "months",
                """
                select month, product, currency, starting_mrr, new_mrr, expansion_mrr,
                    reactivation_mrr, contraction_mrr, churned_mrr, ending_mrr,
                    active_subscriptions
                from marts.rpt_mrr_movements
                {where}
                order by product, currency, month
                """,
                product="product = {}",
                since="month >= {}",
                until="month <= {}",
                month_start=True,
            ),
        ),
    ),
    SectionSpec(
        "tiktok",
        "TikTok organic",
        ("fct_tiktok_video_daily",),
        (
            Query(
                "days",
                """
                select snapshot_date, video_id, title, views, views_gained
                from marts.fct_tiktok_video_daily
                {where}
                order by snapshot_date, video_id
                """,
                since="snapshot_date >= {}",
                until="snapshot_date <= {}",
            ),
        ),
        by_product=False,
    ),
    SectionSpec(
        "reconciliation",
        "Entitlement reconciliation",
        ("rpt_entitlement_reconciliation",),
        (
            # Every expected or found entitlement by verdict (dates do not apply): what was
            # checked, so a product without issues reads "no open issues", not "no data".
            Query(
                "by_type",
                """
                select issue_type, count(*) as entitlements,
                    count(distinct source_purchase_id) as purchases
                from marts.rpt_entitlement_reconciliation
                {where}
                group by issue_type
                order by issue_type
                """,
                product="app = {}",
            ),
            # Open issues only: `ok` is fine and `awaiting_grant` is still within its grace.
            Query(
                "issues",
                """
                select issue_type, source_purchase_id, app, user_id, email, entitlement_id,
                    status, amount, currency, detected_at
                from marts.rpt_entitlement_reconciliation
                where issue_type not in ('ok', 'awaiting_grant') {and_where}
                order by issue_type, source_purchase_id, app
                """,
                product="app = {}",
                since="detected_at >= {}",
                until="detected_at < {}",
                timestamps=True,
            ),
        ),
    ),
)
SECTION_KEYS = tuple(spec.key for spec in SECTIONS)


def is_duckdb(conn: Any) -> bool:
    """True for a DuckDB connection (`$name` parameters), false for psycopg (`%(name)s`)."""
    import duckdb

    return isinstance(conn, duckdb.DuckDBPyConnection)


def bind(query: Query, filters: Filters, duckdb: bool) -> tuple[str, dict[str, Any]]:
    """`query.sql` with its filter predicates and named parameters for the connection's driver
    (`$name` for DuckDB, `%(name)s` for psycopg)."""
    predicates: list[str] = []
    params: dict[str, Any] = {}

    def add(predicate: str | None, name: str, value: Any) -> None:
        if predicate is None or value is None:
            return
        predicates.append(predicate.format(f"${name}" if duckdb else f"%({name})s"))
        params[name] = value

    since, until = filters.since, filters.until
    if query.month_start and since is not None:
        since = since.replace(day=1)
    if query.timestamps:
        since_at = datetime.combine(since, time.min, tzinfo=UTC) if since else None
        until_at = (
            datetime.combine(until + timedelta(days=1), time.min, tzinfo=UTC) if until else None
        )
        add(query.since, "since", since_at)
        add(query.until, "until", until_at)
    else:
        add(query.since, "since", since)
        add(query.until, "until", until)
    add(query.product, "product", filters.product)
    joined = " and ".join(predicates)
    clauses = {
        "where": f"where {joined}" if joined else "",
        "and_where": f"and {joined}" if joined else "",
    }
    return query.sql.format(**clauses), params


def fetch(conn: Any, sql: str, params: dict[str, Any]) -> list[Row]:
    cursor = conn.execute(sql, params) if params else conn.execute(sql)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def load_section(conn: Any, spec: SectionSpec, filters: Filters) -> SectionData:
    """One section's result sets, or the reason it has none."""
    if filters.product and not spec.by_product:
        return SectionData(spec, filters, SectionStatus.NOT_BY_PRODUCT)
    duckdb = is_duckdb(conn)
    results: dict[str, list[Row]] = {}
    try:
        for query in spec.queries:
            results[query.name] = fetch(conn, *bind(query, filters, duckdb))
        if any(results.values()):
            return SectionData(spec, filters, SectionStatus.OK, results)
        if _marts_have_rows(conn, spec.marts[:1]):
            return SectionData(spec, filters, SectionStatus.FILTERED_OUT, results)
    except Exception as exc:  # a missing mart must not hide the other sections
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return SectionData(spec, filters, SectionStatus.UNAVAILABLE, detail=detail)
    return SectionData(spec, filters, SectionStatus.EMPTY, results)


def _marts_have_rows(conn: Any, marts: Sequence[str]) -> bool:
    return any(conn.execute(f"select 1 from marts.{mart} limit 1").fetchall() for mart in marts)


def load_sections(
    conn: Any, filters: Filters, readable: Callable[[SectionSpec], bool] | None = None
) -> list[SectionData]:
    """Every section of the dashboard, in page order; a section whose marts are not
    `readable` (the read API's key scope) is not queried at all."""
    return [
        load_section(conn, spec, filters)
        if readable is None or readable(spec)
        else SectionData(spec, filters, SectionStatus.NOT_ALLOWED)
        for spec in SECTIONS
    ]
