"""`/dashboard`: the report's sections served live, for the key's product and marts only.

Over the session's sample-world warehouse of each backend: no key shows a sign-in form and no
data; an analyst key sees every section; a product key sees its product (sections without a
product dimension say so); a key limited to one mart sees that section only; the sign-in form
keeps a valid key in an HttpOnly cookie. Headless Chromium opens the live page with and
without a key: no console error, no request leaves 127.0.0.1, a screenshot of each section.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.dashboard.queries import SECTIONS
from tests.integration.api.conftest import Harness
from tests.js import chromium_page

pytestmark = pytest.mark.slow

TITLES = [spec.title for spec in SECTIONS]


def _sections(page: str) -> dict[str, str]:
    """Each section's HTML by its id."""
    parts = re.split(r'(<section[^>]*id="[^"]+")', page)
    found = {}
    for opening, body in zip(parts[1::2], parts[2::2], strict=True):
        found[re.search(r'id="([^"]+)"', opening).group(1)] = opening + body  # type: ignore[union-attr]
    return found


def test_without_a_key_there_is_a_sign_in_form_and_no_data(harness: Harness) -> None:
    answer = harness.get("/dashboard", None)
    assert answer.status_code == 401
    assert '<form method="post" action="/dashboard">' in answer.text
    assert "<svg" not in answer.text and "<table" not in answer.text
    assert not any(title in answer.text for title in TITLES)
    unknown = harness.get("/dashboard", "acdrk_not-a-real-key")
    assert unknown.status_code == 401 and "<svg" not in unknown.text


def test_an_analyst_key_sees_every_section_with_charts(harness: Harness) -> None:
    _, key = harness.key()
    answer = harness.get("/dashboard", key)
    assert answer.status_code == 200, answer.text[:500]
    assert answer.headers["cache-control"] == "private, no-store"
    sections = _sections(answer.text)
    assert set(sections) == {spec.key for spec in SECTIONS}
    for spec in SECTIONS:
        assert "<svg" in sections[spec.key] or "<table" in sections[spec.key], spec.key
        assert "Not shown" not in sections[spec.key]


def test_a_product_key_sees_its_product_only(harness: Harness) -> None:
    _, key = harness.key(product="portal28")
    answer = harness.get("/dashboard", key)
    assert answer.status_code == 200
    assert "product portal28" in answer.text
    sections = _sections(answer.text)
    assert "<svg" in sections["product_daily"]
    for other in ("contentfactory", "pct", "mediaposter", "waitlistlab"):
        assert f">{other}<" not in sections["product_daily"], other
    # The funnels have no product dimension: a product's page never shows them.
    assert "<svg" not in sections["funnels"] and "Not shown" in sections["funnels"]


def test_a_key_limited_to_one_mart_sees_only_that_section(harness: Harness) -> None:
    _, key = harness.key(marts=("rpt_product_daily",))
    sections = _sections(harness.get("/dashboard", key).text)
    assert "<svg" in sections["product_daily"]
    for spec in SECTIONS[1:]:
        assert "this key may not read" in sections[spec.key], spec.key
        assert "<svg" not in sections[spec.key] and "<table" not in sections[spec.key]


def test_the_sign_in_form_keeps_a_valid_key_in_an_http_only_cookie(harness: Harness) -> None:
    key_id, key = harness.key()
    signed_in = harness.client.post("/dashboard", data={"key": key}, follow_redirects=False)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/dashboard"
    cookie = signed_in.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/dashboard" in cookie
    page = harness.client.get("/dashboard", headers={"cookie": f"acd_read_key={key}"})
    assert page.status_code == 200 and "<svg" in page.text
    harness.revoke(key_id)
    revoked = harness.client.get("/dashboard", headers={"cookie": f"acd_read_key={key}"})
    assert revoked.status_code == 401 and "<svg" not in revoked.text
    bad_dates = harness.get("/dashboard?from=yesterday", harness.key()[1])
    assert bad_dates.status_code == 400 and "from" in bad_dates.json()["message"]


def test_chromium_opens_the_live_dashboard_with_and_without_a_key(
    harness: Harness, live_url: str, tmp_path: Path
) -> None:
    _, key = harness.key()
    errors: list[str] = []
    requested: list[str] = []
    with chromium_page() as page:
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("request", lambda request: requested.append(request.url))
        page.goto(f"{live_url}/dashboard")
        assert page.locator("svg").count() == 0
        assert page.locator("input[name=key]").count() == 1
        page.screenshot(path=str(tmp_path / "signed-out.png"))
        page.fill("input[name=key]", key)
        page.click("button[type=submit]")
        page.wait_for_selector("section svg")
        for spec in SECTIONS:
            section = page.locator(f"section#{spec.key}")
            assert section.count() == 1, spec.key
            section.screenshot(path=str(tmp_path / f"{spec.key}.png"))
    # A 401 is logged by Chromium as a failed resource load: the only error allowed.
    assert [e for e in errors if "401" not in e] == []
    assert all(url.startswith(live_url) for url in requested), requested
    assert len(list(tmp_path.glob("*.png"))) == len(SECTIONS) + 1
