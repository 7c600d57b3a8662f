"""The dashboard: the marts as charts and figures in one self-contained HTML page.

`queries` reads each section's mart rows, `charts` turns them into Vega-Altair charts and
figures, `page` renders the charts to SVG and assembles the page, `report` ties them together.
"""

from api.dashboard.queries import SECTION_KEYS, Filters, InvalidFilters
from api.dashboard.report import (
    DEFAULT_REPORT_PATH,
    Report,
    headline_png,
    render_dashboard,
    write_report,
)

__all__ = [
    "DEFAULT_REPORT_PATH",
    "SECTION_KEYS",
    "Filters",
    "InvalidFilters",
    "Report",
    "headline_png",
    "render_dashboard",
    "write_report",
]
