"""The dashboard from a warehouse: query the marts, chart them, assemble the page.

    html = render_dashboard(target)                       # every product, all dates
    html = render_dashboard(conn, product="portal28")     # an open connection works too
    report = write_report(target, Path("warehouse/report.html"))

`render_dashboard` is what a live page calls per request; `write_report` is what the command
line and the Dagster asset call, and also hands back the headline chart as PNG.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from acd_analytics.warehouse_url import WarehouseTarget

from api.dashboard.charts import SectionView, section_view
from api.dashboard.page import chart_png, render_page
from api.dashboard.queries import Filters, SectionSpec, load_sections
from warehouse_db.connection import connect

HEADLINE_SECTION = "product_daily"
# Beside the embedded warehouse (`warehouse/acd.duckdb`), relative to the working directory.
DEFAULT_REPORT_PATH = Path("warehouse/report.html")


@contextmanager
def _connection(source: WarehouseTarget | Any) -> Iterator[Any]:
    if isinstance(source, WarehouseTarget):
        with connect(source, read_only=True) as conn:  # a report only reads
            yield conn
    else:
        yield source


def build_views(
    source: WarehouseTarget | Any,
    filters: Filters,
    readable: Callable[[SectionSpec], bool] | None = None,
) -> list[SectionView]:
    """Every section's charts and figures (not yet rendered) for `filters`."""
    with _connection(source) as conn:
        sections = load_sections(conn, filters, readable)
    return [section_view(data) for data in sections]


def render_dashboard(
    source: WarehouseTarget | Any,
    product: str | None = None,
    since: date | None = None,
    until: date | None = None,
    *,
    generated_at: datetime | None = None,
    readable: Callable[[SectionSpec], bool] | None = None,
) -> str:
    """The dashboard page for one product (or all) and a range of UTC dates, as HTML.

    `source` is a warehouse target or an open connection of `warehouse_db.connection`;
    `readable` says which sections' marts the reader may see (the others say so)."""
    filters = Filters(product, since, until)
    views = build_views(source, filters, readable)
    origin = source.redacted() if isinstance(source, WarehouseTarget) else ""
    return render_page(views, filters, generated_at or datetime.now(UTC), origin)


def headline_png(views: list[SectionView], scale: float = 1.0) -> bytes | None:
    """The headline section's first chart as PNG; None when that section has no data."""
    for view in views:
        if view.key == HEADLINE_SECTION and view.charts:
            return chart_png(view.charts[0].chart, scale)
    return None


@dataclass(frozen=True)
class Report:
    path: Path
    views: list[SectionView]
    seconds: float
    headline_png: bytes | None

    @property
    def sections_with_data(self) -> int:
        return sum(1 for view in self.views if view.charts or view.figures)


def write_report(
    target: WarehouseTarget,
    out: Path,
    filters: Filters | None = None,
    *,
    preview_scale: float | None = None,
) -> Report:
    """Write the dashboard for `filters` to `out` (directories created); with `preview_scale`,
    also render the headline chart as PNG at that scale."""
    started = time.perf_counter()
    filters = filters or Filters()
    views = build_views(target, filters)
    page = render_page(views, filters, datetime.now(UTC), target.redacted())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    png = headline_png(views, preview_scale) if preview_scale else None
    return Report(out, views, time.perf_counter() - started, png)
