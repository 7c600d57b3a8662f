"""Reading marts through the read API on DuckDB and PostgreSQL (docs/API.md, Reading a mart)."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

import pytest
from prometheus_client import REGISTRY

from api.app import ReadApi
from api.settings import ApiSettings
from tests.integration.api.conftest import Harness

pytestmark = pytest.mark.slow

MART = "fct_ad_performance_daily"
KEY = ("platform", "ad_id", "report_date")


def everything(harness: Harness, key: str, mart: str, **params: Any) -> list[dict[str, Any]]:
    response = harness.get(f"/v1/marts/{mart}", key, params={"limit": 10000, **params})
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return response.json()["data"]


def keys_of(rows: list[dict[str, Any]], key: tuple[str, ...] = KEY) -> list[tuple[Any, ...]]:
    return [tuple(row[column] for column in key) for row in rows]


def test_each_filter_operator_selects_what_it_says(harness: Harness) -> None:
    _, key = harness.key()
    rows = everything(harness, key, MART)
    assert len(rows) > 50
    dates = sorted({row["report_date"] for row in rows})
    middle = dates[len(dates) // 2]
    impressions = sorted(row["impressions"] for row in rows)[len(rows) // 2]
    spend = sorted(Decimal(row["spend"]) for row in rows)[len(rows) // 3]
    ads = sorted({row["ad_id"] for row in rows})[:2]
    cases: list[tuple[list[tuple[str, str]], Any]] = [
        ([("report_date[gte]", middle)], lambda r: r["report_date"] >= middle),
        ([("report_date[lte]", middle)], lambda r: r["report_date"] <= middle),
        ([("report_date[gt]", middle)], lambda r: r["report_date"] > middle),
        ([("report_date[lt]", middle)], lambda r: r["report_date"] < middle),
        ([("impressions[gte]", str(impressions))], lambda r: r["impressions"] >= impressions),
        ([("spend[lt]", str(spend))], lambda r: Decimal(r["spend"]) < spend),
        ([("platform", "meta")], lambda r: r["platform"] == "meta"),
        ([("ad_id", ads[0]), ("ad_id", ads[1])], lambda r: r["ad_id"] in ads),
        (
            [("platform", "tiktok"), ("report_date[gt]", dates[0]), ("report_date[lte]", middle)],
            lambda r: r["platform"] == "tiktok" and dates[0] < r["report_date"] <= middle,
        ),
    ]
    for params, keep in cases:
        response = harness.get(f"/v1/marts/{MART}", key, params=[*params, ("limit", "10000")])
        assert response.status_code == 200, (params, response.text)
        got = keys_of(response.json()["data"])
        expected = keys_of([row for row in rows if keep(row)])
        assert sorted(got) == sorted(expected), params
        assert 0 < len(got) < len(rows), params


def test_ordering_by_columns_and_descending(harness: Harness) -> None:
    _, key = harness.key()
    rows = everything(harness, key, MART, order="-impressions,report_date")
    pairs = [(-row["impressions"], row["report_date"]) for row in rows]
    assert pairs == sorted(pairs)
    # The mart's key breaks ties, so the order is total and repeatable.
    assert rows == everything(harness, key, MART, order="-impressions,report_date")
    by_key = everything(harness, key, MART)
    assert keys_of(by_key) == sorted(keys_of(by_key))


@pytest.mark.parametrize(
    ("mart", "order", "limit"),
    [
        ("fct_events", "", 97),
        ("fct_events", "-occurred_at", 250),
        ("fct_attribution_credits", "channel,-credit", 64),
        ("rpt_product_daily", "-roas", 7),
        ("fct_mrr", "-previous_mrr,month", 3),
    ],
)
def test_paging_a_whole_mart_with_cursors_gives_every_row_once(
    harness: Harness, mart: str, order: str, limit: int
) -> None:
    _, key = harness.key()
    whole = everything(harness, key, mart, **({"order": order} if order else {}))
    pages = 0
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit}
        if order:
            params["order"] = order
        if cursor:
            params["cursor"] = cursor
        response = harness.get(f"/v1/marts/{mart}", key, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += body["data"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert len(body["data"]) == limit
    assert pages >= 2
    assert seen == whole  # every row once, in order
    canonical = {json.dumps(row, sort_keys=True) for row in seen}
    assert len(canonical) == len(seen)


def test_csv_and_ndjson_hold_what_json_holds(harness: Harness) -> None:
    _, key = harness.key()
    for mart in ("rpt_ai_costs_daily", "fct_events", "rpt_pct_hook_performance"):
        params = {"limit": 40, "order": "-" + harness.api.catalog().marts[mart].key[0]}
        as_json = harness.get(f"/v1/marts/{mart}", key, params=params).json()
        ndjson = harness.get(f"/v1/marts/{mart}", key, params={**params, "format": "ndjson"})
        assert ndjson.headers["content-type"].startswith("application/x-ndjson")
        assert [json.loads(line) for line in ndjson.text.splitlines()] == as_json["data"]
        assert ndjson.headers.get("x-next-cursor") == as_json["next_cursor"]
        as_csv = harness.get(f"/v1/marts/{mart}", key, params={**params, "format": "csv"})
        assert as_csv.headers["content-type"].startswith("text/csv")
        table = list(csv.DictReader(io.StringIO(as_csv.text)))
        assert len(table) == len(as_json["data"])
        for row, record in zip(table, as_json["data"], strict=True):
            assert list(row) == list(record)
            for name, value in record.items():
                if value is None:
                    assert row[name] == ""
                elif isinstance(value, bool):
                    assert row[name] == ("true" if value else "false")
                elif isinstance(value, dict | list):
                    assert json.loads(row[name]) == value
                elif isinstance(value, float):
                    assert float(row[name]) == value
                else:
                    assert row[name] == str(value)


def test_a_repeated_request_is_answered_304_with_its_etag(harness: Harness) -> None:
    _, key = harness.key()
    params = {"platform": "meta", "limit": 5}
    first = harness.get(f"/v1/marts/{MART}", key, params=params)
    etag = first.headers["etag"]
    again = harness.get(f"/v1/marts/{MART}", key, params=params, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    other = harness.get(f"/v1/marts/{MART}", key, params={**params, "limit": 6})
    assert other.headers["etag"] != etag
    changed = harness.get(
        f"/v1/marts/{MART}", key, params={**params, "limit": 6}, headers={"If-None-Match": etag}
    )
    assert changed.status_code == 200
    assert first.json()["built_at"] is not None


def cache_count(result: str) -> float:
    return REGISTRY.get_sample_value("acd_api_page_cache_total", {"result": result}) or 0.0


def test_a_repeated_page_comes_from_the_cache_until_its_mart_is_built_again(
    harness: Harness,
) -> None:
    mart = "rpt_product_daily"
    _, key = harness.key(product="pct")
    _, other_product = harness.key(product="portal28")
    params = {"limit": 7, "order": "-activity_date"}
    first = harness.get(f"/v1/marts/{mart}", key, params=params)
    hits, misses = cache_count("hit"), cache_count("miss")
    again = harness.get(f"/v1/marts/{mart}", key, params=params)
    assert (cache_count("hit"), cache_count("miss")) == (hits + 1, misses)
    assert again.status_code == 200
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["x-built-at"] == first.headers["x-built-at"]
    assert {row["product"] for row in first.json()["data"]} == {"pct"}

    # Another product's key asks the same query: its own page, never the cached one.
    theirs = harness.get(f"/v1/marts/{mart}", other_product, params=params)
    assert cache_count("miss") == misses + 1
    assert {row["product"] for row in theirs.json()["data"]} == {"portal28"}

    # CSV's cursor travels in a header, which the cached page keeps.
    csv_first = harness.get(f"/v1/marts/{mart}", key, params={**params, "format": "csv"})
    csv_again = harness.get(f"/v1/marts/{mart}", key, params={**params, "format": "csv"})
    assert csv_again.content == csv_first.content
    assert csv_again.headers["x-next-cursor"] == csv_first.headers["x-next-cursor"]
    assert csv_again.headers["content-type"] == csv_first.headers["content-type"]

    # A new build of the mart (what its post-hook records) makes the next read a query.
    (invocation,) = harness.query(
        f"select invocation_id from acd_mart_builds where mart = '{mart}'"
    )[0]
    try:
        harness.query(
            f"update acd_mart_builds set invocation_id = 'rebuilt' where mart = '{mart}' "
            "returning mart"
        )
        misses = cache_count("miss")
        rebuilt = harness.get(f"/v1/marts/{mart}", key, params=params)
        assert cache_count("miss") == misses + 1
        assert rebuilt.headers["etag"] != first.headers["etag"]
        assert rebuilt.json()["data"] == first.json()["data"]
    finally:
        harness.query(
            f"update acd_mart_builds set invocation_id = '{invocation}' where mart = '{mart}' "
            "returning mart"
        )


def test_past_the_rate_a_key_gets_429_with_retry_after(harness: Harness) -> None:
    _, key = harness.key()
    api: ReadApi = harness.api
    saved = api.rates
    try:
        # A refill slow enough that a loaded machine's slow requests earn no new token.
        api.rates = type(saved)(rate=0.01, burst=3.0)
        statuses = [harness.get("/v1/marts", key).status_code for _ in range(5)]
        assert statuses[:3] == [200, 200, 200]
        refused = harness.get("/v1/marts", key)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["code"] == "rate_limited"
        _, other = harness.key()
        assert harness.get("/v1/marts", other).status_code == 200  # per key
    finally:
        api.rates = saved
    assert isinstance(api.settings, ApiSettings)


def test_the_answers_of_the_error_contract(harness: Harness) -> None:
    _, key = harness.key(product="pct", marts=("rpt_pct_hook_performance",))
    cases = [
        (None, "/v1/marts", {}, 401, "Authorization"),
        ("acdrk_not-a-key", "/v1/marts", {}, 401, "Authorization"),
        (key, "/v1/marts/no_such_mart", {}, 404, "mart"),
        (key, "/v1/marts/fct_events", {}, 403, "mart"),
        (key, "/v1/marts/rpt_pct_hook_performance", {"limit": "0"}, 400, "limit"),
        (key, "/v1/marts/rpt_pct_hook_performance", {"limit": "10001"}, 400, "limit"),
        (key, "/v1/marts/rpt_pct_hook_performance", {"format": "xml"}, 400, "format"),
        (key, "/v1/marts/rpt_pct_hook_performance", {"clicks": "many"}, 400, "clicks"),
        (key, "/v1/marts/rpt_pct_hook_performance", {"clicks[ne]": "1"}, 400, "clicks[ne]"),
        (key, "/v1/marts/rpt_pct_hook_performance", {"nope": "1"}, 400, "nope"),
        (key, "/v1/marts/rpt_pct_hook_performance", {"order": "nope"}, 400, "order"),
    ]
    for token, path, params, status, named in cases:
        response = harness.get(path, token, params=params)
        assert response.status_code == status, (path, params, response.text)
        body = response.json()
        assert set(body) == {"code", "message"}
        assert body["message"].startswith(named + ":"), body


def test_the_mart_list_openapi_docs_and_health(harness: Harness) -> None:
    _, key = harness.key(product="portal28")
    listed = harness.get("/v1/marts", key).json()["data"]
    names = {mart["name"] for mart in listed}
    # A product key's default: the marts with a product column.
    assert names == {
        name for name, mart in harness.api.catalog().marts.items() if mart.product_column
    }
    daily = next(mart for mart in listed if mart["name"] == "rpt_product_daily")
    assert daily["grain"].startswith("One row per")
    assert daily["built_at"] is not None
    assert {"name": "product", "type": "text"}.items() <= daily["columns"][0].items()
    document = harness.get("/openapi.json", None).json()
    assert document["openapi"].startswith("3.1")
    assert set(harness.api.catalog().marts) <= set(document["components"]["schemas"])
    assert "/v1/marts/rpt_pct_hook_performance" in document["paths"]
    page = harness.get("/docs", None)
    assert page.status_code == 200
    assert "/openapi.json" in page.text
    assert "<script src" not in page.text and "http" not in page.text.replace("/openapi.json", "")
    assert harness.get("/health", None).json() == {"status": "ok"}
