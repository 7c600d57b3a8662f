"""A product key never sees another product's rows; scope, revocation and bad input
(docs/API.md, Keys and scope, Safety)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serving.keys import hash_key
from tests.integration.api.conftest import Harness

pytestmark = pytest.mark.slow

PRODUCTS = ("portal28", "pct", "waitlistlab")


def product_marts(harness: Harness) -> list[str]:
    return sorted(n for n, m in harness.api.catalog().marts.items() if m.product_column)


def test_a_product_key_never_receives_another_products_row(harness: Harness) -> None:
    catalog = harness.api.catalog()
    marts = product_marts(harness)
    keys = {product: harness.key(product=product)[1] for product in PRODUCTS}
    _, analyst = harness.key()
    # Real values to filter on, from the analyst's view (every product's rows).
    samples: dict[str, list[dict[str, Any]]] = {
        mart: harness.get(f"/v1/marts/{mart}", analyst, params={"limit": 200}).json()["data"]
        for mart in marts
    }
    assert all(samples.values())

    @st.composite
    def requests(draw: st.DrawFn) -> tuple[str, str, list[tuple[str, str]], int]:
        mart = draw(st.sampled_from(marts))
        columns = [c for c in catalog.marts[mart].columns if c.comparable]
        rows = samples[mart]
        params: list[tuple[str, str]] = []
        for _ in range(draw(st.integers(0, 3))):
            column = draw(st.sampled_from(columns))
            value = draw(st.sampled_from(rows))[column.name]
            if value is None:
                continue
            op = draw(st.sampled_from(["", "[gte]", "[lte]", "[gt]", "[lt]"]))
            params.append(
                (column.name + op, str(value).lower() if isinstance(value, bool) else str(value))
            )
        order = draw(st.lists(st.sampled_from(columns), max_size=3, unique_by=lambda c: c.name))
        if order:
            params.append(
                ("order", ",".join(draw(st.sampled_from(["", "-"])) + c.name for c in order))
            )
        product = draw(st.sampled_from(PRODUCTS))
        return mart, product, params, draw(st.integers(1, 40))

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(requests())
    def check(request: tuple[str, str, list[tuple[str, str]], int]) -> None:
        mart, product, params, limit = request
        column = catalog.marts[mart].product_column
        assert column is not None
        cursor = None
        for _ in range(4):  # follow the cursors a few pages
            query = [*params, ("limit", str(limit))] + ([("cursor", cursor)] if cursor else [])
            response = harness.get(f"/v1/marts/{mart}", keys[product], params=query)
            assert response.status_code in (200, 400), response.text
            if response.status_code == 400:
                return
            body = response.json()
            assert all(row[column] == product for row in body["data"]), (mart, product, params)
            cursor = body["next_cursor"]
            if cursor is None:
                return

    check()


def test_a_product_filter_for_another_product_returns_nothing(harness: Harness) -> None:
    _, key = harness.key(product="pct")
    for mart in product_marts(harness):
        column = harness.api.catalog().marts[mart].product_column
        response = harness.get(f"/v1/marts/{mart}", key, params={column: "portal28"})
        assert response.status_code == 200
        assert response.json()["data"] == []


def test_a_product_key_reads_only_the_marts_of_its_list(harness: Harness) -> None:
    _, key = harness.key(product="pct", marts=("rpt_pct_hook_performance", "rpt_product_daily"))
    listed = {m["name"] for m in harness.get("/v1/marts", key).json()["data"]}
    assert listed == {"rpt_pct_hook_performance", "rpt_product_daily"}
    winners = harness.get("/v1/marts/rpt_pct_hook_performance", key, params={"status": "winner"})
    assert winners.status_code == 200 and winners.json()["data"]
    assert all(row["status"] == "winner" for row in winners.json()["data"])
    for mart in ("fct_events", "rpt_pct_feature_performance", "dim_persons"):
        refused = harness.get(f"/v1/marts/{mart}", key)
        assert refused.status_code == 403, mart
        assert refused.json()["code"] == "forbidden"
    # Without a list, a product key may not read a mart without a product column.
    _, default = harness.key(product="pct")
    assert harness.get("/v1/marts/rpt_pct_hook_performance", default).status_code == 403


def test_a_revoked_key_gets_401_on_its_next_request(harness: Harness) -> None:
    key_id, key = harness.key(product="portal28")
    assert harness.get("/v1/marts/rpt_product_daily", key).status_code == 200
    harness.revoke(key_id)
    refused = harness.get("/v1/marts/rpt_product_daily", key)
    assert refused.status_code == 401
    assert refused.json()["message"] == "Authorization: this key was revoked"


def test_a_known_key_skips_its_lookup_yet_is_refused_once_revoked(harness: Harness) -> None:
    """After its first mart read, a key's reads check it inside the page's statement
    (`KnownKeys`); every answer but a page is still decided with the key looked up."""
    key_id, key = harness.key(product="portal28")
    assert harness.get("/v1/marts/rpt_product_daily", key).status_code == 200
    assert harness.api.known.get(hash_key(key), "rpt_product_daily") is not None
    empty = harness.get(
        "/v1/marts/rpt_product_daily", key, params={"activity_date[gte]": "2999-01-01"}
    )
    assert empty.status_code == 200 and empty.json()["data"] == []
    assert harness.get("/v1/marts/dim_persons", key).status_code == 403
    harness.revoke(key_id)
    for path in ("/v1/marts/rpt_product_daily", "/v1/marts/dim_persons", "/v1/marts/nope"):
        refused = harness.get(path, key)
        assert refused.status_code == 401, path
        assert refused.json()["message"] == "Authorization: this key was revoked"


def _forged(document: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


INJECTIONS = [
    "'; drop table api_keys; --",
    "1 or 1=1",
    "x') or ('1'='1",
    'product" or "1"="1',
    "1; select pg_sleep(5)",
    "\\x00",
]


def test_sql_injection_in_any_parameter_is_refused_and_changes_nothing(harness: Harness) -> None:
    _, key = harness.key(product="portal28")
    mart = "rpt_product_daily"
    before = harness.query("select count(*) from api_keys")
    rows_before = harness.query(f"select count(*) from marts.{mart}")
    first = harness.get(f"/v1/marts/{mart}", key, params={"limit": 2}).json()
    real_cursor = first["next_cursor"]
    attempts: list[list[tuple[str, str]]] = []
    for text in INJECTIONS:
        attempts += [
            [(text, "1")],  # as a column name
            [(f"activity_date[{text}]", "2024-06-01")],  # as an operator
            [("activity_date", text)],  # as a typed value
            [("events[gte]", text)],
            [("order", text)],
            [("order", f"activity_date,{text}")],
            [("limit", text)],
            [("format", text)],
            [("cursor", text)],
            [("cursor", _forged({"o": f"{mart}|", "v": [text, text]}))],
            [("cursor", _forged({"o": f"{mart}|", "v": ["portal28", text]}))],
            [("cursor", _forged({"o": text, "v": []}))],
        ]
    attempts += [
        [("cursor", real_cursor + "x")],
        [("cursor", _forged({"o": f"{mart}|", "v": [1, 2]}))],
        [("order", "product"), ("cursor", real_cursor)],  # another order's cursor
    ]
    for params in attempts:
        response = harness.get(f"/v1/marts/{mart}", key, params=params)
        assert response.status_code == 400, (params, response.text)
        assert set(response.json()) == {"code", "message"}
    # A text value is only ever a value: it matches nothing and breaks nothing.
    for text in INJECTIONS[:5]:
        response = harness.get(f"/v1/marts/{mart}", key, params={"currency": text})
        assert response.status_code == 200
        assert response.json()["data"] == []
    injected_path = harness.get("/v1/marts/rpt_product_daily;drop table api_keys", key)
    assert injected_path.status_code == 404
    assert harness.query("select count(*) from api_keys") == before
    assert harness.query(f"select count(*) from marts.{mart}") == rows_before
