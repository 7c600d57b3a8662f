"""The SDK against real warehouses (issue 3): every test runs on DuckDB and on PostgreSQL."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from acd_analytics import Client, InvalidEvent
from acd_analytics.warehouse_url import WarehouseTarget

from tests.integration.sdk.conftest import event_count, query

STANDARD_EVENTS: dict[str, dict[str, Any]] = {
    "page_viewed": {"path": "/pricing"},
    "waitlist_joined": {"waitlist_id": "wl_1"},
    "signup_completed": {"method": "email"},
    "trial_started": {"plan": "pro"},
    "purchase_completed": {
        "revenue": 49.0,
        "currency": "USD",
        "stripe_charge_id": "ch_1",
        "plan": "pro",
    },
    "subscription_canceled": {"plan": "pro"},
    "identify": {"traits": {"email": "a@example.com", "name": "Ada"}},
    "alias": {"previous_id": "anon-1"},
    "hook_generated": {
        "hook_id": "h1",
        "hook_text": "Stop scrolling",
        "awareness_level": 3,
        "angle": "pain",
        "template": "t1",
    },
    "ad_published": {"platform": "meta", "platform_ad_id": "2385", "hook_id": "h1"},
    "video_generated": {"duration_s": 12.5, "template": "t1", "awareness_level": 2},
    "content_published": {"platform": "tiktok", "post_id": "v1"},
    "ai_generation": {
        "provider": "openai",
        "model": "gpt-4o",
        "input_tokens": 100,
        "output_tokens": 50,
        "estimated_tokens": 150,
    },
}


def client_for(warehouse: WarehouseTarget, spool_dir: Path, **kwargs: Any) -> Client:
    return Client(warehouse.url, "portal28", spool_dir=spool_dir, **kwargs)


@pytest.mark.parametrize("sync_mode", [True, False], ids=["sync", "background"])
def test_every_standard_event_round_trips(
    warehouse: WarehouseTarget, spool_dir: Path, sync_mode: bool
) -> None:
    client = client_for(warehouse, spool_dir, sync_mode=sync_mode)
    occurred = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)
    context = {"campaign": {"source": "facebook", "fbclid": "x1"}, "page": {"url": "https://a.b/"}}
    ids = {
        name: client.track(
            name,
            properties,
            user_id="u1",
            anonymous_id="anon-1",
            session_id="s1",
            occurred_at=occurred,
            context=context,
        )
        for name, properties in STANDARD_EVENTS.items()
    }
    assert client.flush(timeout=60)
    client.shutdown()

    rows = query(
        warehouse,
        "select cast(event_id as varchar), product, event_name, user_id, anonymous_id, "
        "session_id, occurred_at, sent_at, received_at, cast(properties as varchar), "
        "cast(context as varchar), library from shared_events",
    )
    assert len(rows) == len(STANDARD_EVENTS)
    by_name = {row[2]: row for row in rows}
    for name, properties in STANDARD_EVENTS.items():
        row = by_name[name]
        assert row[0] == ids[name]
        assert row[1:6] == ("portal28", name, "u1", "anon-1", "s1")
        assert row[6] == occurred
        assert row[7] is not None and row[8] is not None
        assert json.loads(row[9]) == properties
        assert json.loads(row[10]) == context
        assert row[11].startswith("acd-analytics/")


def test_identify_and_alias_write_their_events(warehouse: WarehouseTarget, spool_dir: Path) -> None:
    client = client_for(warehouse, spool_dir, sync_mode=True)
    client.identify("u7", {"email": "u7@example.com"}, anonymous_id="a7")
    client.alias("a7", "u7")
    client.shutdown()
    rows = query(
        warehouse,
        "select event_name, user_id, cast(properties as varchar) from shared_events "
        "order by event_name",
    )
    assert [(name, user, json.loads(props)) for name, user, props in rows] == [
        ("alias", "u7", {"previous_id": "a7"}),
        ("identify", "u7", {"traits": {"email": "u7@example.com"}}),
    ]


def test_resending_the_same_event_ids_changes_nothing(
    warehouse: WarehouseTarget, spool_dir: Path
) -> None:
    ids = [str(uuid.uuid4()) for _ in range(500)]
    for _ in range(2):
        client = client_for(warehouse, spool_dir, batch_size=128)
        for number, event_id in enumerate(ids):
            client.track("page_viewed", {"n": number}, user_id="u1", event_id=event_id)
        # the same ids twice within one batch, too
        client.track("page_viewed", user_id="u1", event_id=ids[0])
        assert client.flush(timeout=60)
        client.shutdown()
        assert event_count(warehouse) == len(ids)


def test_eight_threads_of_ten_thousand_arrive_exactly_once(
    warehouse: WarehouseTarget, spool_dir: Path
) -> None:
    client = client_for(warehouse, spool_dir, max_queue_size=20_000)
    per_thread = 10_000
    returned: list[list[str]] = [[] for _ in range(8)]

    def produce(slot: int) -> None:
        for number in range(per_thread):
            returned[slot].append(
                client.track("page_viewed", {"thread": slot, "n": number}, anonymous_id=f"t{slot}")
            )

    threads = [threading.Thread(target=produce, args=(slot,)) for slot in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert client.flush(timeout=300)
    stats = client.stats()
    client.shutdown()

    all_ids = {event_id for ids in returned for event_id in ids}
    assert len(all_ids) == 8 * per_thread
    assert query(warehouse, "select count(*), count(distinct event_id) from shared_events") == [
        (8 * per_thread, 8 * per_thread)
    ]
    per_slot = query(
        warehouse,
        "select anonymous_id, count(*) from shared_events group by anonymous_id order by 1",
    )
    assert per_slot == [(f"t{slot}", per_thread) for slot in range(8)]
    assert stats["tracked"] == 8 * per_thread
    assert stats["dropped"] == 0


NOW = datetime.now(UTC)

INVALID_CALLS: list[tuple[str, dict[str, Any], str]] = [
    ("product pattern", {"product": "Portal 28"}, "product"),
    ("event name pattern", {"event_name": "PageViewed"}, "event_name"),
    ("no user or anonymous id", {"user_id": None, "anonymous_id": None}, "user_id"),
    ("user id not a string", {"user_id": 42}, "user_id"),
    (
        "required property missing",
        {"event_name": "purchase_completed", "properties": {"currency": "USD"}},
        "properties.revenue",
    ),
    (
        "property of the wrong type",
        {"event_name": "purchase_completed", "properties": {"revenue": "9", "currency": "USD"}},
        "properties.revenue",
    ),
    (
        "property out of range",
        {
            "event_name": "hook_generated",
            "properties": {"hook_id": "h", "hook_text": "t", "awareness_level": 6, "angle": "a"},
        },
        "properties.awareness_level",
    ),
    (
        "currency not ISO-4217",
        {"event_name": "purchase_completed", "properties": {"revenue": 1, "currency": "dollars"}},
        "properties.currency",
    ),
    ("properties not JSON-serializable", {"properties": {"when": object()}}, "properties"),
    ("properties not an object", {"properties": ["a"]}, "properties"),
    ("over 32 KB", {"properties": {"blob": "x" * 33_000}}, "properties"),
    ("naive occurred_at", {"occurred_at": datetime(2024, 1, 1)}, "occurred_at"),
    ("occurred_at over 24 h ahead", {"occurred_at": NOW + timedelta(hours=25)}, "occurred_at"),
    ("event id not a UUID", {"event_id": "not-a-uuid"}, "event_id"),
    ("context not an object", {"context": "utm_source=fb"}, "context"),
]


@pytest.mark.parametrize(
    ("call", "field"),
    [pytest.param(call, field, id=rule) for rule, call, field in INVALID_CALLS],
)
def test_invalid_event_raises_naming_the_field_and_writes_nothing(
    warehouse: WarehouseTarget, spool_dir: Path, call: dict[str, Any], field: str
) -> None:
    client = client_for(warehouse, spool_dir, sync_mode=True)
    arguments: dict[str, Any] = {"event_name": "page_viewed", "user_id": "u1", **call}
    with pytest.raises(InvalidEvent) as raised:
        client.track(arguments.pop("event_name"), arguments.pop("properties", None), **arguments)
    assert raised.value.field == field
    assert str(raised.value).startswith(field)
    assert isinstance(raised.value, ValueError)
    assert client.flush(timeout=30)
    assert client.stats()["tracked"] == 0
    client.shutdown()
    assert event_count(warehouse) == 0
