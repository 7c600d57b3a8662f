"""The Segment message → `shared_events` mapping (collector.wire), without I/O."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from collector import wire

RECEIVED = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
INFO = wire.RequestInfo(product="portal28", received_at=RECEIVED, client_ip="203.0.113.9")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(value: datetime) -> int:
    return (value - EPOCH) // timedelta(microseconds=1)


def row(message: dict[str, Any], call_type: str | None = None, info: wire.RequestInfo = INFO):
    parsed = wire.parse_message(message, call_type, info)
    assert not isinstance(parsed, wire.Rejection), parsed
    return parsed


def reject(message: Any, call_type: str | None = None) -> wire.Rejection:
    parsed = wire.parse_message(message, call_type, INFO)
    assert isinstance(parsed, wire.Rejection), parsed
    return parsed


@pytest.mark.parametrize(
    ("event", "name"),
    [
        ("Order Completed", "order_completed"),
        ("  signup--completed!! ", "signup_completed"),
        ("3D Viewed", "e_3d_viewed"),
        ("Ünïcode Thing", "n_code_thing"),
        ("x" * 300, "x" * 128),
        ("page_viewed", "page_viewed"),
    ],
)
def test_event_names_are_normalized(event: str, name: str) -> None:
    assert wire.normalize_event_name(event) == name


def test_uuid_message_ids_are_kept_lower_case() -> None:
    upper = str(uuid.uuid4()).upper()
    assert (
        row({"type": "track", "event": "x", "userId": "u", "messageId": upper})[0] == upper.lower()
    )


def test_other_message_ids_map_to_a_stable_uuid5_per_product() -> None:
    message = {"type": "track", "event": "x", "userId": "u", "messageId": "ajs-next-1-abc"}
    first, second = row(message)[0], row(dict(message))[0]
    other = row(message, info=wire.RequestInfo(product="pct", received_at=RECEIVED))[0]
    assert first == second == str(uuid.uuid5(wire.MESSAGE_ID_NAMESPACE, "portal28\najs-next-1-abc"))
    assert other != first


def test_missing_message_ids_get_random_uuids() -> None:
    message = {"type": "track", "event": "x", "userId": "u"}
    assert row(message)[0] != row(message)[0]


def test_page_screen_identify_alias_group_mapping() -> None:
    page = row(
        {
            "type": "page",
            "anonymousId": "a",
            "name": "Pricing",
            "category": "Docs",
            "properties": {"path": "/pricing"},
        }
    )
    assert page[2] == "page_viewed"
    assert json.loads(page[7]) == {"path": "/pricing", "name": "Pricing", "category": "Docs"}
    screen = row({"anonymousId": "a", "name": "Home"}, "screen")
    assert screen[2] == "screen_viewed" and json.loads(screen[7]) == {"name": "Home"}
    identify = row({"type": "identify", "userId": 42, "traits": {"email": "a@example.com"}})
    assert identify[2:4] == ("identify", "42")
    assert json.loads(identify[7]) == {"traits": {"email": "a@example.com"}}
    alias = row({"type": "alias", "userId": "u1", "previousId": "anon-1"})
    assert alias[2] == "alias" and json.loads(alias[7]) == {"previous_id": "anon-1"}
    group = row({"type": "group", "userId": "u1", "groupId": "g1", "traits": {"plan": "pro"}})
    assert group[2] == "group"
    assert json.loads(group[7]) == {"group_id": "g1", "traits": {"plan": "pro"}}


def test_standard_event_properties_are_validated_like_the_sdk() -> None:
    rejected = reject(
        {
            "type": "track",
            "event": "Purchase Completed",
            "userId": "u",
            "properties": {"revenue": -1, "currency": "USD"},
        }
    )
    assert rejected.code == "invalid_message" and "properties.revenue" in rejected.reason


def test_context_merges_batch_under_message_and_renames_user_agent() -> None:
    info = wire.RequestInfo(
        product="portal28",
        received_at=RECEIVED,
        client_ip="198.51.100.1",
        batch_context={"locale": "en-US", "app": {"name": "batch"}, "userAgent": "UA/1"},
    )
    record = row(
        {
            "type": "track",
            "event": "x",
            "anonymousId": "a",
            "context": {"app": {"name": "message"}, "ip": "192.0.2.7"},
        },
        info=info,
    )
    assert json.loads(record[8]) == {
        "locale": "en-US",
        "app": {"name": "message"},
        "ip": "192.0.2.7",
        "user_agent": "UA/1",
    }


def test_ip_is_filled_in_from_the_request_when_missing() -> None:
    assert json.loads(row({"type": "track", "event": "x", "userId": "u"})[8]) == {
        "ip": "203.0.113.9"
    }


def test_library_from_context_else_http() -> None:
    lib = {"library": {"name": "analytics-node", "version": "3.1.0"}}
    assert row({"type": "track", "event": "x", "userId": "u", "context": lib})[11] == (
        "analytics-node/3.1.0"
    )
    assert row({"type": "track", "event": "x", "userId": "u"})[11] == "http"


def test_occurred_at_is_corrected_for_the_client_clock_skew() -> None:
    # The client's clock runs 1 h fast; the event happened 10 min before it was sent.
    sent = RECEIVED + timedelta(hours=1)
    record = row(
        {
            "type": "track",
            "event": "x",
            "userId": "u",
            "timestamp": (sent - timedelta(minutes=10)).isoformat(),
            "sentAt": sent.isoformat(),
        }
    )
    assert record[6] == micros(RECEIVED - timedelta(minutes=10))
    assert record[9] == micros(sent) and record[10] == micros(RECEIVED)


def test_batch_sent_at_applies_and_original_timestamp_is_read() -> None:
    info = wire.RequestInfo(
        product="portal28", received_at=RECEIVED, batch_sent_at="2026-03-01T12:00:30Z"
    )
    record = row(
        {"type": "track", "event": "x", "userId": "u", "originalTimestamp": "2026-03-01T12:00:00Z"},
        info=info,
    )
    assert record[6] == micros(RECEIVED - timedelta(seconds=30))


def test_without_sent_at_the_timestamp_is_taken_as_is_and_without_either_received_at() -> None:
    assert row(
        {"type": "track", "event": "x", "userId": "u", "timestamp": "2026-02-01T00:00:00+01:00"}
    )[6] == micros(datetime(2026, 1, 31, 23, tzinfo=UTC))
    assert row({"type": "track", "event": "x", "userId": "u"})[6] == micros(RECEIVED)


def test_far_future_timestamp_is_replaced_and_kept_in_context() -> None:
    record = row(
        {"type": "track", "event": "x", "userId": "u", "timestamp": "2099-01-01T00:00:00Z"}
    )
    assert record[6] == micros(RECEIVED)
    assert json.loads(record[8])["original_timestamp"] == "2099-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ({"type": "track", "userId": "u"}, "event"),
        ({"type": "track", "event": 5, "userId": "u"}, "event"),
        ({"type": "track", "event": "x"}, "userId"),
        ({"type": "track", "event": "x", "userId": ["u"]}, "userId"),
        ({"type": "track", "event": "x", "userId": "u", "properties": [1]}, "properties"),
        ({"type": "track", "event": "x", "userId": "u", "messageId": "m" * 101}, "messageId"),
        ({"type": "track", "event": "x", "userId": "u", "timestamp": "yesterday"}, "timestamp"),
        ({"type": "track", "event": "x", "userId": "u", "sentAt": 12}, "sentAt"),
        ({"type": "launch", "userId": "u"}, "type"),
        ({"event": "x", "userId": "u"}, "type"),
        ({"type": "track", "event": "x", "userId": "u", "properties": {"a": "\x00"}}, "properties"),
    ],
)
def test_invalid_messages_are_rejected_naming_the_field(
    message: dict[str, Any], field: str
) -> None:
    rejected = reject(message)
    assert rejected.code == "invalid_message"
    assert rejected.reason.startswith(field)
    assert json.loads(rejected.payload) == message


def test_oversized_message_is_rejected_with_its_payload_cut() -> None:
    rejected = reject(
        {"type": "track", "event": "x", "userId": "u", "properties": {"b": "x" * 40_000}}
    )
    assert rejected.code == "payload_too_large"
    assert len(rejected.payload.encode()) <= wire.MAX_MESSAGE_BYTES


def test_parse_json_refuses_bad_bodies() -> None:
    with pytest.raises(wire.BadRequest) as bad:
        wire.parse_json(b"{not json")
    assert bad.value.code == "invalid_json"
    with pytest.raises(wire.BadRequest) as bad:
        wire.parse_json(b'{"a": "\xff"}')
    assert bad.value.code == "invalid_json"
    with pytest.raises(wire.BadRequest) as bad:
        wire.parse_json(b"[" * 40 + b"]" * 40)
    assert bad.value.code == "invalid_json" and "deeper" in bad.value.message
    assert wire.parse_json(b"[" * 32 + b"]" * 32) is not None
    with pytest.raises(wire.BadRequest) as bad:
        wire.parse_json(b" " * (wire.MAX_BODY_BYTES + 1))
    assert bad.value.code == "payload_too_large"


def test_batches_over_the_message_limit_are_refused() -> None:
    with pytest.raises(wire.BadRequest) as bad:
        wire.batch_messages({"batch": [{}] * (wire.MAX_BATCH_MESSAGES + 1)})
    assert bad.value.code == "too_many_messages"


def test_inflater_stops_a_gzip_bomb_early() -> None:
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024))
    inflater = wire.BoundedInflater()
    with pytest.raises(wire.BadRequest) as bad:
        inflater.feed(bomb)
    assert bad.value.code == "payload_too_large"
    assert sum(len(part) for part in inflater._parts) <= wire.MAX_BODY_BYTES


def test_inflater_round_trips_chunks() -> None:
    body = json.dumps({"batch": [{"type": "track"}] * 100}).encode()
    packed = gzip.compress(body)
    inflater = wire.BoundedInflater()
    for start in range(0, len(packed), 7):
        inflater.feed(packed[start : start + 7])
    assert inflater.finish() == body


def test_batch_depth_is_the_body_s_whatever_holds_the_depth() -> None:
    """`check_batch_depth` (a batch body parsed with `check_depth=False`) refuses what
    `parse_json` refuses, and hands back each message serialized."""

    def nested(levels: int) -> Any:
        value: Any = 1
        for _ in range(levels):
            value = {"n": value}
        return value

    def check(body: dict[str, Any]) -> list[bytes] | None:
        raw = json.dumps(body).encode()
        value = wire.parse_json(raw, check_depth=False)
        try:
            texts = wire.check_batch_depth(value, raw)
        except wire.BadRequest as exc:
            with pytest.raises(wire.BadRequest):
                wire.parse_json(raw)  # the same verdict as the whole-body check
            assert exc.code == "invalid_json" and "deeper" in exc.message
            raise
        assert wire.parse_json(raw) == value
        return texts

    wide = {
        "type": "track",
        "event": "x",
        "userId": "u",
        "properties": {
            f"k{i}": {"a": [1]}
            for i in range(40)  # 80 brackets, 4 levels
        },
    }
    texts = check({"batch": [wide, {"type": "track"}]})
    assert texts == [orjson.dumps(wide), b'{"type":"track"}']
    # The body {"batch": [message]} adds two levels to a message's own.
    assert check({"batch": [{"p": nested(29)}]}) is not None
    for body in (
        {"batch": [{"p": nested(30)}]},
        {"batch": [wide] * 3 + [{"p": nested(31)}]},
        {"batch": [wide], "context": nested(32)},
        {"batch": [{"p": nested(300)}]},  # past orjson's own serializing limit
    ):
        with pytest.raises(wire.BadRequest):
            check(body)
    assert check({"batch": [wide], "context": nested(31)}) is not None
    assert check({"batch": "no"}) is None and check({"message": nested(5)}) is None
