"""The dashboard of a warehouse with nothing in it yet: a "no data yet" panel per section.

The warehouse is the session's `built_empty`: migrated, with the whole dbt project built on it
and no source rows, so every mart exists and has no rows.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from acd_analytics.warehouse_url import WarehouseTarget

from api.dashboard import SECTION_KEYS, write_report
from tests.integration.dashboard.conftest import parse_report

pytestmark = pytest.mark.slow


def test_an_empty_warehouse_renders_no_data_yet_panels(
    built_empty: WarehouseTarget, tmp_path: Path
) -> None:
    report = write_report(built_empty, tmp_path / "report.html")

    assert report.sections_with_data == 0
    page = parse_report(report.path)
    assert list(page.sections) == list(SECTION_KEYS)
    for key, section in page.sections.items():
        assert section.status == "empty", key
        assert not section.charts and not section.tables, key
        assert section.panel is not None and section.panel.startswith("No data yet"), key
        assert "has no rows" in section.panel, key
