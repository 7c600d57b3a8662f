"""The dashboard of a warehouse with nothing in it yet: a "no data yet" panel per section.

The warehouse is migrated and dbt builds the marts the dashboard reads (with their seeds and
everything upstream; the data tests are left out, `test_core_empty.py` runs those on empty
marts), so every mart exists and has no rows.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from acd_analytics.warehouse_url import WarehouseTarget

from api.dashboard import SECTION_KEYS, write_report
from api.dashboard.queries import SECTIONS
from tests.integration.dashboard.conftest import parse_report
from tests.integration.dbt.conftest import dbt_in

pytestmark = pytest.mark.slow


def test_an_empty_warehouse_renders_no_data_yet_panels(
    warehouse: WarehouseTarget, tmp_path: Path
) -> None:
    marts = sorted({f"+{mart}" for spec in SECTIONS for mart in spec.marts})
    dbt_in(
        warehouse,
        ["build", "--select", *marts, "--resource-type", "seed", "--resource-type", "model"],
        tmp_path,
    )

    report = write_report(warehouse, tmp_path / "report.html")

    assert report.sections_with_data == 0
    page = parse_report(report.path)
    assert list(page.sections) == list(SECTION_KEYS)
    for key, section in page.sections.items():
        assert section.status == "empty", key
        assert not section.charts and not section.tables, key
        assert section.panel is not None and section.panel.startswith("No data yet"), key
        assert "has no rows" in section.panel, key
