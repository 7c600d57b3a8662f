"""The browser path end to end: `@segment/analytics-next` in headless Chromium on an ad's
landing page → the collector → `dbt build` → `fct_events` gives the visit its channel and ad.

The page (`tests/js/landing.html`) loads the unmodified analytics-next build with the collector
as its `cdnURL`, so the settings document, CORS and the per-key allowed origin are on the path;
`landing_rudderstack.html` does the same with RudderStack's SDK and `dataPlaneUrl`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from acd_analytics.warehouse_url import WarehouseTarget

from collector.keys import create_key
from tests.integration.collector.conftest import (
    PRODUCT,
    Collector,
    start_server,
    stop_server,
    wait_until,
)
from tests.integration.dbt.conftest import dbt_in
from tests.js import JS_DIR, chromium_page, require_node_modules, served

AD_CLICK = {
    "utm_source": "facebook",
    "utm_medium": "paid_social",
    "utm_campaign": "120210000000000001",
    "utm_content": "120210000000000042",
    "fbclid": "IwAR2browserTestClickId",
}


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else json.loads(value)


@dataclass
class Visit:
    collector: Collector
    key: str
    user_agent: str
    console_errors: list[str] = field(default_factory=list)
    requested: list[str] = field(default_factory=list)


def _stored(collector: Collector) -> int | None:
    """Rows in shared_events, or None while the loader holds the DuckDB file (an embedded
    file takes one process's connections at a time; the test polls from the collector's)."""
    try:
        return collector.count()
    except Exception as exc:
        if "file handle conflict" in str(exc) or "lock" in str(exc).lower():
            return None
        raise


def _visit(warehouse: WarehouseTarget, tmp_path: Path, page_name: str) -> Visit:
    """Open `tests/js/<page_name>` from an ad click in headless Chromium, with the collector
    (a key allowing only the page's origin) as the SDK's endpoint; return once the page's two
    events are in the warehouse."""
    require_node_modules()
    with served(JS_DIR) as origin:
        key = create_key(warehouse, PRODUCT, [origin])[1]
        collector = start_server(warehouse, tmp_path / "journal", key)
        console_errors: list[str] = []
        requested: list[str] = []
        try:
            with chromium_page() as page:
                page.on(
                    "console",
                    lambda message: (
                        console_errors.append(message.text) if message.type == "error" else None
                    ),
                )
                page.on("request", lambda request: requested.append(request.url))
                settings = urlencode({"collector": collector.url, "writeKey": key})
                page.goto(f"{origin}/{page_name}?{urlencode(AD_CLICK)}#{settings}")
                assert page.evaluate("window.delivered") is True
                user_agent = page.evaluate("navigator.userAgent")
                wait_until(lambda: _stored(collector) == 2, what="both browser events")
                collector.settle()
        finally:
            stop_server(collector)
    assert console_errors == []
    assert all(url.startswith("http://127.0.0.1:") for url in requested), requested
    return Visit(collector, key, user_agent, console_errors, requested)


@pytest.mark.slow  # runs dbt build
def test_a_browser_visit_from_a_meta_ad_is_attributed_to_that_ad(
    warehouse: WarehouseTarget, tmp_path: Path
) -> None:
    visit = _visit(warehouse, tmp_path, "landing.html")
    collector = visit.collector
    assert f"{collector.url}/v1/projects/{visit.key}/settings" in visit.requested

    rows = collector.rows(
        "select event_name, product, user_id, anonymous_id, properties, context, library "
        "from shared_events order by event_name"
    )
    assert [row[0] for row in rows] == ["page_viewed", "signup_completed"]
    anonymous_ids = {row[3] for row in rows}
    assert len(anonymous_ids) == 1 and None not in anonymous_ids
    for _, product, user_id, _, _, context, library in rows:
        context = _as_dict(context)
        assert product == PRODUCT and user_id is None
        assert library.startswith("analytics.js/next-")  # analytics-next names itself so
        assert context["ip"] == "127.0.0.1"
        assert context["user_agent"] == visit.user_agent
        assert context["campaign"]["source"] == "facebook"
        assert context["campaign"]["content"] == AD_CLICK["utm_content"]
        assert "fbclid=" + AD_CLICK["fbclid"] in context["page"]["url"]
    assert _as_dict(rows[1][4]) == {"method": "email"}

    dbt_in(warehouse, ["build"], tmp_path)
    attributed = collector.rows(
        "select event_name, channel, campaign_id, ad_id from marts.fct_events order by event_name"
    )
    assert attributed == [
        ("page_viewed", "meta", AD_CLICK["utm_campaign"], AD_CLICK["utm_content"]),
        ("signup_completed", "meta", AD_CLICK["utm_campaign"], AD_CLICK["utm_content"]),
    ]


def test_the_rudderstack_sdk_in_a_browser_sends_through_the_collector(
    warehouse: WarehouseTarget, tmp_path: Path
) -> None:
    visit = _visit(warehouse, tmp_path, "landing_rudderstack.html")
    rows = visit.collector.rows(
        "select event_name, product, anonymous_id, properties, context "
        "from shared_events order by event_name"
    )
    assert [row[0] for row in rows] == ["page_viewed", "waitlist_joined"]
    assert len({row[2] for row in rows}) == 1 and rows[0][2] is not None
    assert _as_dict(rows[1][3]) == {"waitlist_id": "spring"}
    for row in rows:
        context = _as_dict(row[4])
        assert row[1] == PRODUCT
        assert context["campaign"]["source"] == "facebook"
        assert context["ip"] == "127.0.0.1"
        assert context["user_agent"] == visit.user_agent
