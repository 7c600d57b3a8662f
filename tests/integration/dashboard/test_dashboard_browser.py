"""The report file in a real browser: Debian's headless Chromium driven by Playwright.

Nothing but the file itself may load (every request is routed through the test and any other
is refused and recorded), the console stays free of errors, and every section is
screenshotted into the test's tmp_path as an artifact to look at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.dashboard import SECTION_KEYS
from tests.integration.dashboard.conftest import RenderedReport

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def test_the_report_opens_offline_without_errors(
    browser: Any, dashboard_reports: dict[str, RenderedReport], tmp_path: Path
) -> None:
    report = dashboard_reports["duckdb"]
    url = report.path.resolve().as_uri()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    requested: list[str] = []
    refused: list[str] = []
    errors: list[str] = []

    def route(route: Any) -> None:
        requested.append(route.request.url)
        if route.request.url == url:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(url, wait_until="load")
        page.wait_for_load_state("networkidle")

        sections = page.locator("section.dashboard-section")
        assert sections.count() == len(SECTION_KEYS)
        for key in SECTION_KEYS:
            section = page.locator(f"section#{key}")
            assert section.is_visible()
            charts = section.locator("figure.chart svg")
            assert charts.count() >= 1, key
            box = charts.first.bounding_box()
            assert box is not None and box["width"] > 100 and box["height"] > 50, (key, box)
            section.screenshot(path=str(tmp_path / f"{key}.png"))
    finally:
        context.close()

    assert requested == [url]
    assert refused == []
    assert errors == []
    shots = sorted(path.name for path in tmp_path.glob("*.png"))
    assert shots == sorted(f"{key}.png" for key in SECTION_KEYS)
    assert all((tmp_path / shot).stat().st_size > 5_000 for shot in shots)
