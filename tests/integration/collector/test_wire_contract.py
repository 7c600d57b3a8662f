"""The collector's answers, one test per bad input, and the endpoints besides `/v1/batch`.

Every refused request gets the status and `{"code", "message"}` body real clients act on;
in a batch, a bad message is recorded in `shared_events_rejected` and the others are stored.
"""

from __future__ import annotations

import base64
import gzip
import ipaddress
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from acd_analytics.warehouse_url import WarehouseTarget, parse_warehouse_url

from collector.keys import create_key, revoke_key
from tests.integration.collector.conftest import (
    PRODUCT,
    Collector,
    TcpProxy,
    start_server,
    stop_server,
)
from tests.integration.sdk.conftest import query

SUCCESS = {"success": True}


def track(**fields: Any) -> dict[str, Any]:
    return {"event": "Signed Up", "userId": "u1", "messageId": str(uuid.uuid4()), **fields}


def assert_error(response: httpx.Response, status: int, code: str, field: str = "") -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    assert field in body["message"]
    assert set(body) == {"code", "message"}


def stored_ids(collector: Collector) -> set[str]:
    collector.settle()
    return {str(row[0]) for row in collector.rows("select event_id from shared_events")}


def rejected(collector: Collector) -> list[tuple[Any, ...]]:
    collector.settle()
    return collector.rows(
        "select product, source, reason_code, reason, payload from shared_events_rejected"
    )


# -- what succeeds


@pytest.mark.parametrize("path", ["/v1/track", "/v1/t"])
def test_single_message_answers_exactly_200_success(collector: Collector, path: str) -> None:
    message = track()
    response = collector.post(path, message)
    assert response.status_code == 200 and response.json() == SUCCESS
    assert "x-ratelimit-reset" not in response.headers
    assert stored_ids(collector) == {message["messageId"]}


@pytest.mark.parametrize("path", ["/v1/batch", "/v1/b", "/v1/import"])
def test_batch_paths(collector: Collector, path: str) -> None:
    batch = [
        dict(track(), type="track"),
        {"type": "page", "anonymousId": "a1", "messageId": str(uuid.uuid4())},
    ]
    assert collector.post(path, {"batch": batch}).json() == SUCCESS
    assert stored_ids(collector) == {m["messageId"] for m in batch}


def test_write_key_in_the_body_and_with_bearer(collector: Collector) -> None:
    first, second = track(), track()
    response = collector.post("/v1/track", {**first, "writeKey": collector.key}, key=None)
    assert response.status_code == 200
    response = collector.post(
        "/v1/batch",
        {"batch": [dict(second, type="track")], "writeKey": collector.key},
        key=None,
        headers={"Authorization": "Bearer some-oauth-token"},
    )
    assert response.status_code == 200
    assert stored_ids(collector) == {first["messageId"], second["messageId"]}


def test_json_under_any_content_type_and_chunked(collector: Collector) -> None:
    message = track()
    response = collector.post(
        "/v1/t",
        content=json.dumps(message).encode(),
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 200
    chunked = track()
    data = json.dumps(chunked).encode()
    response = collector.post(
        "/v1/t", content=iter([data[:10], data[10:]]), headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 200
    assert stored_ids(collector) == {message["messageId"], chunked["messageId"]}


def test_client_metrics_are_answered_and_discarded(collector: Collector) -> None:
    response = collector.post("/v1/m", {"series": [{"type": "Counter"}]}, key=None)
    assert response.status_code == 200 and response.json() == SUCCESS
    assert stored_ids(collector) == set()


def test_resent_messages_are_stored_once(collector: Collector) -> None:
    batch = [dict(track(messageId="ajs-next-1700000000000-abc"), type="track")]
    for _ in range(3):
        assert collector.post("/v1/b", {"batch": batch}).status_code == 200
    assert len(stored_ids(collector)) == 1


# -- bad input, one test each


def test_invalid_json(collector: Collector) -> None:
    response = collector.post(
        "/v1/batch", content=b'{"batch": [', headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "invalid_json", "body")


def test_non_utf8_body(collector: Collector) -> None:
    response = collector.post("/v1/track", content=b'{"event": "caf\xe9", "userId": "u"}')
    assert_error(response, 400, "invalid_json", "UTF-8")


def test_absurd_nesting(collector: Collector) -> None:
    deep: Any = {"leaf": 1}
    for _ in range(40):
        deep = {"x": deep}
    response = collector.post("/v1/track", track(properties=deep))
    assert_error(response, 400, "invalid_json", "nested")


def test_wrong_types(collector: Collector) -> None:
    response = collector.post("/v1/track", track(properties=["not", "an", "object"]))
    assert_error(response, 400, "invalid_message", "properties")
    response = collector.post("/v1/track", [track()])
    assert_error(response, 400, "invalid_json", "body")
    good = dict(track(), type="track")
    response = collector.post(
        "/v1/batch", {"batch": [good, dict(track(userId={"a": 1}), type="track")]}
    )
    assert response.json() == SUCCESS
    assert stored_ids(collector) == {good["messageId"]}
    # The refused single message is recorded too, next to the batch's bad one.
    rows = rejected(collector)
    assert {row[:3] for row in rows} == {(PRODUCT, "collector", "invalid_message")}
    assert sorted(row[3].split(":")[0] for row in rows) == ["properties", "userId"]


def test_missing_event(collector: Collector) -> None:
    message = track()
    del message["event"]
    assert_error(collector.post("/v1/track", message), 400, "invalid_message", "event")
    ((_, _, code, reason, payload),) = rejected(collector)
    assert code == "invalid_message" and reason.startswith("event")
    assert json.loads(payload)["messageId"] == message["messageId"]


def test_neither_user_id_nor_anonymous_id(collector: Collector) -> None:
    message = track()
    del message["userId"]
    assert_error(collector.post("/v1/track", message), 400, "invalid_message", "userId")


def test_oversized_message(collector: Collector) -> None:
    big = track(properties={"blob": "x" * 40_000})
    assert_error(collector.post("/v1/track", big), 400, "payload_too_large", "32 KB")
    good = dict(track(), type="track")
    response = collector.post("/v1/batch", {"batch": [good, dict(big, type="track")]})
    assert response.json() == SUCCESS
    assert stored_ids(collector) == {good["messageId"]}
    codes = sorted(row[2] for row in rejected(collector))
    assert codes == ["payload_too_large", "payload_too_large"]
    assert all(len(row[4].encode()) <= 32 * 1024 for row in rejected(collector))


def test_oversized_request(collector: Collector) -> None:
    batch = [dict(track(properties={"blob": "x" * 20_000}), type="track") for _ in range(30)]
    assert_error(collector.post("/v1/batch", {"batch": batch}), 400, "payload_too_large", "500 KB")
    assert stored_ids(collector) == set()


def test_too_many_messages(collector: Collector) -> None:
    batch = [{"type": "track", "event": "e", "userId": "u"} for _ in range(2501)]
    assert_error(collector.post("/v1/batch", {"batch": batch}), 400, "too_many_messages", "2500")


def test_over_long_message_id(collector: Collector) -> None:
    response = collector.post("/v1/track", track(messageId="m" * 101))
    assert_error(response, 400, "invalid_message", "messageId")


def test_unknown_type(collector: Collector) -> None:
    good = dict(track(), type="track")
    response = collector.post("/v1/batch", {"batch": [good, {"type": "launch", "userId": "u"}]})
    assert response.json() == SUCCESS
    assert stored_ids(collector) == {good["messageId"]}
    assert [row[3].split(":")[0] for row in rejected(collector)] == ["type"]
    assert_error(collector.post("/v1/launch", track()), 404, "not_found", "/v1/launch")


def test_unknown_write_key(collector: Collector) -> None:
    response = collector.post("/v1/track", track(), key="acdwk_not-a-key")
    assert_error(response, 401, "invalid_write_key", "writeKey")
    assert "acdwk_not-a-key" not in response.text
    assert_error(collector.post("/v1/track", track(), key=None), 401, "invalid_write_key")


def test_revoked_write_key(warehouse: WarehouseTarget, collector: Collector) -> None:
    key, secret = create_key(warehouse, PRODUCT, [])
    revoke_key(warehouse, key.key_id)
    response = collector.post("/v1/track", track(), key=secret)
    assert_error(response, 401, "invalid_write_key", "revoked")


def test_payload_claiming_another_product(collector: Collector) -> None:
    message = track(product="content-factory", context={"product": "content-factory"})
    assert (
        collector.post("/v1/track", {**message, "properties": {"product": "pct"}}).status_code
        == 200
    )
    collector.settle()
    assert collector.rows("select distinct product from shared_events") == [(PRODUCT,)]


def test_gzip_bomb(collector: Collector) -> None:
    bomb = gzip.compress(b'{"batch": [' + b" " * (64 * 1024 * 1024) + b"]}")
    assert len(bomb) < 100 * 1024
    response = collector.post(
        "/v1/batch",
        content=bomb,
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert_error(response, 400, "payload_too_large", "500 KB")


def test_gzip_body(collector: Collector) -> None:
    message = dict(track(), type="track")
    body = gzip.compress(json.dumps({"batch": [message]}).encode())
    response = collector.post("/v1/batch", content=body, headers={"Content-Encoding": "gzip"})
    assert response.json() == SUCCESS
    assert stored_ids(collector) == {message["messageId"]}


def test_unparseable_timestamp(collector: Collector) -> None:
    response = collector.post("/v1/track", track(timestamp="last tuesday"))
    assert_error(response, 400, "invalid_message", "timestamp")


def test_far_future_timestamp(collector: Collector) -> None:
    message = track(timestamp="2099-01-01T00:00:00Z")
    assert collector.post("/v1/track", message).status_code == 200
    collector.settle()
    ((occurred, received, context),) = collector.rows(
        "select occurred_at, received_at, context from shared_events"
    )
    assert occurred == received
    context = context if isinstance(context, dict) else json.loads(context)
    assert context["original_timestamp"] == "2099-01-01T00:00:00Z"


# -- limits, browsers, operations


def test_origin_refused_for_a_key_with_allowed_origins(
    warehouse: WarehouseTarget, collector: Collector
) -> None:
    _, key = create_key(warehouse, PRODUCT, ["https://app.example.com"])
    ok = collector.post("/v1/t", track(), key=key, headers={"Origin": "https://app.example.com"})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "https://app.example.com"
    refused = collector.post("/v1/t", track(), key=key, headers={"Origin": "https://evil.example"})
    assert_error(refused, 401, "origin_not_allowed", "Origin")


def test_cors_preflight(collector: Collector) -> None:
    response = collector.http.options(
        collector.url + "/v1/t",
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, x-retry-count",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "x-retry-count" in response.headers["access-control-allow-headers"]
    assert "POST" in response.headers["access-control-allow-methods"]


def test_rate_limit_answers_429_with_retry_after(
    warehouse: WarehouseTarget, write_key: str, tmp_path: Path
) -> None:
    running = start_server(warehouse, tmp_path / "journal", write_key, rate_limit=1.0)
    try:
        batch = [{"type": "track", "event": "e", "userId": "u"} for _ in range(10)]
        assert running.post("/v1/batch", {"batch": batch}).status_code == 200
        response = running.post("/v1/batch", {"batch": batch})
        assert_error(response, 429, "rate_limited", "writeKey")
        assert int(response.headers["retry-after"]) >= 1
        assert "x-ratelimit-reset" not in response.headers
    finally:
        stop_server(running)


@pytest.mark.parametrize("backend", ["postgres"])
def test_journal_over_budget_answers_503(
    warehouse: WarehouseTarget, write_key: str, tmp_path: Path
) -> None:
    """The warehouse is away (a proxy refuses it): the journal absorbs requests up to its
    budget, then answers 503 with Retry-After; once the warehouse is back, it drains."""
    assert warehouse.host and warehouse.port
    proxy = TcpProxy(warehouse.host, warehouse.port)
    through_proxy = parse_warehouse_url(
        warehouse.url.replace(f"{warehouse.host}:{warehouse.port}", f"127.0.0.1:{proxy.port}")
    )
    running = start_server(through_proxy, tmp_path / "journal", write_key, journal_max_bytes=20_000)
    try:
        assert running.post("/v1/track", track()).status_code == 200  # caches the key
        running.settle()
        proxy.cut()
        accepted: list[dict[str, Any]] = []
        response = None
        for _ in range(100):
            batch = [dict(track(properties={"p": "x" * 500}), type="track") for _ in range(4)]
            response = running.post("/v1/batch", {"batch": batch})
            if response.status_code != 200:
                break
            accepted += batch
        assert response is not None and 0 < len(accepted) < 400
        assert_error(response, 503, "unavailable", "journal")
        assert int(response.headers["retry-after"]) >= 1
        assert running.http.get(running.url + "/ready").status_code == 503
        proxy.restore()
        running.settle()
        assert running.http.get(running.url + "/ready").status_code == 200
        assert running.post("/v1/track", track()).status_code == 200
        running.settle()
    finally:
        stop_server(running)
        proxy.close()
    assert {m["messageId"] for m in accepted} <= stored_ids_of(warehouse)
    assert len(stored_ids_of(warehouse)) == len(accepted) + 2


def stored_ids_of(warehouse: WarehouseTarget) -> set[str]:
    return {str(row[0]) for row in query(warehouse, "select event_id from shared_events")}


def test_pixel(collector: Collector) -> None:
    good = track(writeKey=collector.key)
    data = base64.b64encode(json.dumps(good).encode()).decode()
    response = collector.http.get(collector.url + "/v1/pixel/track", params={"data": data})
    assert response.status_code == 200 and response.headers["content-type"] == "image/gif"
    bad = base64.urlsafe_b64encode(json.dumps({"writeKey": collector.key, "userId": "u"}).encode())
    response = collector.http.get(collector.url + "/v1/pixel/track", params={"data": bad.decode()})
    assert response.status_code == 200 and response.content.startswith(b"GIF89a")
    assert stored_ids(collector) == {good["messageId"]}
    assert [row[3].split(":")[0] for row in rejected(collector)] == ["event"]


def test_settings_document_points_analytics_next_here(collector: Collector) -> None:
    response = collector.http.get(f"{collector.url}/v1/projects/{collector.key}/settings")
    assert response.status_code == 200
    segment = response.json()["integrations"]["Segment.io"]
    assert segment["apiKey"] == collector.key
    assert segment["apiHost"] == collector.url.removeprefix("http://") + "/v1"
    assert segment["protocol"] == "http"
    unknown = collector.http.get(f"{collector.url}/v1/projects/acdwk_nope/settings")
    assert_error(unknown, 401, "invalid_write_key")


def test_health_ready_and_metrics(collector: Collector) -> None:
    assert collector.http.get(collector.url + "/health").json() == {"status": "ok"}
    assert collector.post("/v1/track", track()).status_code == 200
    ready = collector.http.get(collector.url + "/ready")
    assert ready.status_code == 200 and ready.json()["status"] == "ok"
    collector.settle()
    metrics = collector.http.get(collector.url + "/metrics").text
    assert "acd_collector_events_accepted_total" in metrics
    assert "acd_collector_journal_bytes" in metrics
    assert 'route="/v1/track",status="200"' in metrics
    assert collector.key not in metrics


def test_received_at_is_one_value_per_request(collector: Collector) -> None:
    batch = [dict(track(), type="track") for _ in range(5)]
    assert collector.post("/v1/batch", {"batch": batch}).status_code == 200
    collector.settle()
    ((count,),) = collector.rows("select count(distinct received_at) from shared_events")
    assert count == 1
    ((received,),) = collector.rows("select max(received_at) from shared_events")
    received = received if received.tzinfo else received.replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - received).total_seconds()) < 60


def test_client_ip_from_a_trusted_proxy_only(
    warehouse: WarehouseTarget, write_key: str, tmp_path: Path
) -> None:
    running = start_server(
        warehouse,
        tmp_path / "journal",
        write_key,
        trusted_proxies=(ipaddress.ip_network("127.0.0.1/32"),),
    )
    try:
        forwarded = {"X-Forwarded-For": "198.51.100.7, 10.0.0.1"}
        via_proxy, own_ip = track(), track(context={"ip": "192.0.2.1"})
        assert running.post("/v1/track", via_proxy, headers=forwarded).status_code == 200
        assert running.post("/v1/track", own_ip, headers=forwarded).status_code == 200
        running.settle()
        ips = dict(
            (str(event_id), (ctx if isinstance(ctx, dict) else json.loads(ctx))["ip"])
            for event_id, ctx in running.rows("select event_id, context from shared_events")
        )
    finally:
        stop_server(running)
    assert ips == {via_proxy["messageId"]: "198.51.100.7", own_ip["messageId"]: "192.0.2.1"}


def test_forwarded_for_is_ignored_from_untrusted_peers(collector: Collector) -> None:
    message = track()
    headers = {"X-Forwarded-For": "198.51.100.7"}
    assert collector.post("/v1/track", message, headers=headers).status_code == 200
    collector.settle()
    ((ctx,),) = collector.rows("select context from shared_events")
    assert (ctx if isinstance(ctx, dict) else json.loads(ctx))["ip"] == "127.0.0.1"
