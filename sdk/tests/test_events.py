"""Validation rules of docs/REFERENCE.md, Tables the products write and Event contract (pure functions, no warehouse)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from acd_analytics import InvalidEvent
from acd_analytics.events import build_record, decode_line, encode_line, new_event_id


def record(**overrides: Any) -> tuple[Any, ...]:
    arguments: dict[str, Any] = {
        "product": "portal28",
        "event_name": "page_viewed",
        "properties": None,
        "user_id": "u1",
        "anonymous_id": None,
        "session_id": None,
        "occurred_at": None,
        "event_id": None,
        "context": None,
    }
    arguments.update(overrides)
    return build_record(**arguments)


def field_of(**overrides: Any) -> str:
    with pytest.raises(InvalidEvent) as raised:
        record(**overrides)
    assert isinstance(raised.value, ValueError)
    return raised.value.field


def test_a_valid_event_becomes_a_record() -> None:
    occurred = datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=2)))
    event_id, product, name, user, anon, session, micros, props, ctx = record(
        properties={"path": "/é"}, occurred_at=occurred, context={"locale": "fr"}
    )
    assert uuid.UUID(event_id).version == 4
    assert (product, name, user, anon, session) == ("portal28", "page_viewed", "u1", None, None)
    assert micros == int(occurred.timestamp()) * 1_000_000 + 6
    assert json.loads(props) == {"path": "/é"} and json.loads(ctx) == {"locale": "fr"}


def test_journal_lines_round_trip_and_stay_ascii() -> None:
    original = record(properties={"text": 'quote " newline \n é 🎉'}, session_id="s\t1")
    line = encode_line(original)  # type: ignore[arg-type]
    assert line.endswith(b"\n") and line.count(b"\n") == 1 and line.isascii()
    assert decode_line(line) == original


def test_generated_ids_are_unique_uuid4() -> None:
    ids = {new_event_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(uuid.UUID(value).version == 4 for value in list(ids)[:100])


def test_given_event_ids_are_normalized() -> None:
    given = uuid.uuid4()
    assert record(event_id=given)[0] == str(given)
    assert record(event_id=str(given).upper())[0] == str(given)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"event_name": "PageViewed"}, "event_name"),
        ({"event_name": "page-viewed"}, "event_name"),
        ({"event_name": "x" * 129}, "event_name"),
        ({"user_id": None}, "user_id"),
        ({"user_id": ""}, "user_id"),
        ({"anonymous_id": 3}, "anonymous_id"),
        ({"session_id": 3}, "session_id"),
        ({"properties": {"x": float("nan")}}, "properties"),
        ({"properties": {"x": {1, 2}}}, "properties"),
        ({"properties": "a=b"}, "properties"),
        ({"properties": {"x": "y" * 32_800}}, "properties"),
        ({"properties": {"x": "é" * 17_000}}, "properties"),
        ({"context": ["x"]}, "context"),
        ({"occurred_at": datetime(2024, 1, 1)}, "occurred_at"),
        ({"occurred_at": "2024-01-01T00:00:00Z"}, "occurred_at"),
        ({"occurred_at": datetime.now(UTC) + timedelta(hours=25)}, "occurred_at"),
        ({"event_id": "123"}, "event_id"),
        ({"event_name": "waitlist_joined"}, "properties.waitlist_id"),
        ({"event_name": "signup_completed", "properties": {"method": ""}}, "properties.method"),
        ({"event_name": "trial_started", "properties": {}}, "properties.plan"),
        (
            {"event_name": "purchase_completed", "properties": {"revenue": -1, "currency": "USD"}},
            "properties.revenue",
        ),
        (
            {
                "event_name": "purchase_completed",
                "properties": {"revenue": True, "currency": "USD"},
            },
            "properties.revenue",
        ),
        (
            {"event_name": "purchase_completed", "properties": {"revenue": 1, "currency": "US"}},
            "properties.currency",
        ),
        (
            {
                "event_name": "purchase_completed",
                "properties": {"revenue": 1, "currency": "USD", "plan": 3},
            },
            "properties.plan",
        ),
        ({"event_name": "identify", "properties": {"traits": "x"}}, "properties.traits"),
        (
            {"event_name": "identify", "properties": {"traits": {"email": 1}}},
            "properties.traits.email",
        ),
        ({"event_name": "alias", "properties": {}}, "properties.previous_id"),
        (
            {"event_name": "ad_published", "properties": {"platform": "x", "platform_ad_id": "1"}},
            "properties.platform",
        ),
        (
            {"event_name": "video_generated", "properties": {"duration_s": "1", "template": "t"}},
            "properties.duration_s",
        ),
        (
            {"event_name": "content_published", "properties": {"platform": "x"}},
            "properties.post_id",
        ),
        (
            {
                "event_name": "ai_generation",
                "properties": {
                    "provider": "p",
                    "model": "m",
                    "input_tokens": 1.5,
                    "output_tokens": 1,
                },
            },
            "properties.input_tokens",
        ),
    ],
)
def test_each_rule_names_its_field(overrides: dict[str, Any], field: str) -> None:
    assert field_of(**overrides) == field


def test_custom_snake_case_events_get_the_generic_checks_only() -> None:
    assert record(event_name="lesson_finished", properties={"anything": [1, None]})[2] == (
        "lesson_finished"
    )
    assert record(anonymous_id="a1", user_id=None)[4] == "a1"


def test_stamped_records_reach_duckdb_with_their_own_stamps() -> None:
    """`write_stamped`: sent_at, received_at and library per event (what a relay such as the
    collector stores), duplicates ignored and counted out."""
    from acd_analytics.events import build_record
    from acd_analytics.transport import DuckDBSink
    from acd_analytics.warehouse_url import parse_warehouse_url

    sink = DuckDBSink(parse_warehouse_url("duckdb:///:memory:"))
    conn = sink._connection()
    conn.execute(
        "create table shared_events (event_id uuid primary key, product text, event_name text, "
        "user_id text, anonymous_id text, session_id text, occurred_at timestamptz, "
        "sent_at timestamptz, received_at timestamptz, properties json, context json, "
        "library text)"
    )
    record = build_record(
        "portal28",
        "signup_completed",
        {"method": "email"},
        "u1",
        None,
        None,
        None,
        None,
        {"ip": "127.0.0.1"},
    )
    other = build_record("portal28", "page_viewed", None, None, "a1", None, None, None, None)
    stamped = [
        (*record, 1_000_000, 2_000_000, "analytics-node/3.1"),
        (*other, None, 3_000_000, "http"),
    ]
    assert sink.write_stamped(stamped) == 2
    assert sink.write_stamped(stamped[:1]) == 0
    rows = conn.execute(
        "select event_id::varchar, epoch_us(sent_at), epoch_us(received_at), library "
        "from shared_events order by received_at"
    ).fetchall()
    assert rows == [
        (record[0], 1_000_000, 2_000_000, "analytics-node/3.1"),
        (other[0], None, 3_000_000, "http"),
    ]


def test_orjson_and_the_stdlib_encoder_write_the_same_json() -> None:
    """With orjson installed, properties and context are written by it; what it would write
    differently (or refuse) goes to the stdlib encoder, so the text is the stdlib's apart from
    the notation of floats below 1e-4, and the value is the same."""
    import dataclasses
    import enum
    import random
    from decimal import Decimal

    from acd_analytics import events

    # The workspace installs orjson (the collector needs it); the SDK alone runs without it.
    pytest.importorskip("orjson")
    assert events._orjson is not None

    class Colour(enum.Enum):
        RED = "red"

    class Level(enum.IntEnum):
        HIGH = 3

    class Ratio(float):
        pass

    @dataclasses.dataclass
    class Point:
        x: int

    moment = datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=2)))
    samples: list[Any] = [
        {"text": 'quote " backslash \\ newline \n tab \t nul \x00 esc \x1b del \x7f'},
        {"unicode": "é 🎉 \u2028 \u00a0", "é": "key"},
        {"n": [1, -0.0, 2.5, 1e16, 1e300, 0.1, 2**63, 2**64 - 1, -(2**63)]},
        {"nested": {"a": [{"b": None}, True, False]}, "empty": {}, "list": []},
        {"when": moment, "day": date(2024, 1, 2), "id": uuid.UUID(int=7)},
        {"price": Decimal("12.50"), "colour": Colour.RED, "level": Level.HIGH},
        {"ratio": Ratio(0.5), "huge": 2**70, 1: "int key", None: "none key"},
        {"tuple": (1, 2), "order": {"z": 1, "a": 2, "m": 3}},
    ]
    rng = random.Random(5)
    for _ in range(300):
        values = [
            rng.uniform(1, 10) * 10 ** rng.randint(-4, 20),
            rng.randint(-(10**12), 10**12),
            "v" * rng.randint(0, 5),
            None,
        ]
        samples.append({f"k{i}": rng.choice(values) for i in range(rng.randint(0, 6))})
    for sample in samples:
        assert events._dumps(sample) == events._stdlib_dumps(sample), sample
    # Floats below 1e-4 are the same numbers in another notation.
    small = {"tiny": 1e-7, "smaller": 0.00001, "neg": -3.5e-9}
    assert json.loads(events._dumps(small)) == json.loads(events._stdlib_dumps(small)) == small
    # What the stdlib encoder refuses stays refused.
    for bad in (
        {"nan": float("nan")},
        {"inf": [float("-inf")]},
        {"decimal_nan": Decimal("NaN")},
        {"set": {1}},
        {"time": moment.timetz()},
        {"dataclass": Point(1)},
        {"bytes": b"x"},
    ):
        with pytest.raises((TypeError, ValueError)):
            events._dumps(bad)
    deep: Any = {}
    for _ in range(300):  # past orjson's nesting limit: the stdlib encoder writes it
        deep = {"d": deep}
    assert events._dumps(deep) == events._stdlib_dumps(deep)
    # Values parsed from JSON text hold no NaN: `finite` skips the check for it.
    assert events._dumps({"a": None}, finite=True) == '{"a":null}'
