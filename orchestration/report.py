"""The demo's readable summary of the marts: a few questions each mart answers (docs/METRICS.md).

Plain SQL that reads the same on DuckDB and PostgreSQL; each section says so when its mart
is empty instead of hiding it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from acd_analytics.warehouse_url import WarehouseTarget

from warehouse_db.connection import connect


@dataclass(frozen=True)
class Section:
    title: str
    sql: str
    headers: tuple[str, ...]


SECTIONS = (
    Section(
        "Funnel conversion (all cohorts)",
        """
        select funnel_name, step_index, step_name, sum(persons) as persons
        from marts.rpt_funnel_conversion
        group by funnel_name, step_index, step_name
        order by funnel_name, step_index
        """,
        ("funnel", "step", "name", "persons"),
    ),
    Section(
        "Top channels by attributed value (last_touch)",
        """
        select channel, currency, sum(conversions) as conversions,
            round(cast(sum(attributed_value) as numeric), 2) as attributed_value,
            round(cast(sum(spend) as numeric), 2) as spend
        from marts.rpt_channel_attribution
        where model = 'last_touch'
        group by channel, currency
        order by sum(attributed_value) desc
        limit 6
        """,
        ("channel", "currency", "conversions", "value", "spend"),
    ),
    Section(
        "Creatives by ROAS (ads with spend; top 3 and bottom 3)",
        """
        with per_ad as (
            select platform, ad_id, max(hook_id) as hook_id, sum(spend) as spend,
                sum(conversion_value) as value
            from marts.rpt_creative_performance
            group by platform, ad_id
            having sum(spend) > 0
        ),
        ranked as (
            select *, value / spend as roas,
                row_number() over (order by value / spend desc, ad_id) as best,
                row_number() over (order by value / spend asc, ad_id) as worst
            from per_ad
        )
        select platform, ad_id, hook_id, round(cast(spend as numeric), 2),
            round(cast(value as numeric), 2), round(cast(roas as numeric), 2)
        from ranked
        where best <= 3 or worst <= 3
        order by roas desc
        """,
        ("platform", "ad", "hook", "spend", "value", "roas"),
    ),
    Section(
        "PCT hooks: winners (what PCT should make more of)",
        """
        select platform, hook_id, awareness_level, angle, impressions,
            round(cast(ctr as numeric), 4), round(cast(ctr_lower as numeric), 4),
            round(cast(baseline_ctr as numeric), 4), rank
        from marts.rpt_pct_hook_performance
        where status = 'winner'
        order by platform, rank
        limit 10
        """,
        ("platform", "hook", "awareness", "angle", "impr.", "ctr", "ctr_low", "baseline", "rank"),
    ),
    Section(
        "MRR by product (latest month)",
        """
        select month, product, currency, round(cast(ending_mrr as numeric), 2),
            round(cast(new_mrr as numeric), 2), round(cast(churned_mrr as numeric), 2),
            active_subscriptions
        from marts.rpt_mrr_movements
        where month = (select max(month) from marts.rpt_mrr_movements)
        order by product, currency
        """,
        ("month", "product", "currency", "ending", "new", "churned", "subs"),
    ),
    Section(
        "Entitlement reconciliation issues",
        """
        select issue_type, source_purchase_id, app, coalesce(email, user_id),
            round(cast(amount as numeric), 2), currency
        from marts.rpt_entitlement_reconciliation
        where issue_type <> 'ok'
        order by issue_type, source_purchase_id, app
        """,
        ("issue", "purchase", "app", "who", "amount", "currency"),
    ),
)


def marts_report(target: WarehouseTarget) -> list[str]:
    """The demo summary as printable lines."""
    lines: list[str] = []
    with connect(target) as conn:
        for section in SECTIONS:
            lines += ["", section.title]
            try:
                rows = conn.execute(section.sql).fetchall()
            except Exception as exc:  # a missing mart must not hide the other sections
                lines.append(f"  (unavailable: {str(exc).strip().splitlines()[0]})")
                continue
            lines += format_table(section.headers, rows) if rows else ["  (no rows)"]
    return lines


def format_table(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], *, indent: str = "  "
) -> list[str]:
    cells = [list(headers), *[[_cell(value) for value in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def render(row: list[str]) -> str:
        return (
            indent
            + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )

    return [render(cells[0]), indent + "  ".join("-" * w for w in widths), *map(render, cells[1:])]


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)
