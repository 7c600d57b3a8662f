"""The real `segment-analytics-python` client, unmodified, pointed at the collector with `host=`."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from segment.analytics import Client
from segment.analytics import request as segment_request

from tests.integration.collector.conftest import PRODUCT, Collector

PER_TYPE = 500  # six call types: 3,000 events


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else json.loads(value)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@pytest.mark.parametrize("gzip", [False, True], ids=["plain", "gzip"])
def test_every_call_type_lands_exactly_once(collector: Collector, gzip: bool) -> None:
    errors: list[Any] = []
    client = Client(
        collector.key,
        host=collector.url,
        gzip=gzip,
        upload_size=100,
        max_queue_size=20_000,
        on_error=lambda error, batch: errors.append(error),
    )
    happened = datetime.now(UTC) - timedelta(minutes=5)
    context = {"campaign": {"source": "facebook", "content": "ad-42"}, "userAgent": "Test/1.0"}
    expected: dict[str, dict[str, Any]] = {}
    for i in range(PER_TYPE):
        ids = {kind: str(uuid.uuid4()) for kind in ("t", "p", "s", "i", "a", "g")}
        client.track(
            user_id=f"u{i}",
            event="Order Completed",
            properties={"order": i, "total": 9.5},
            context=context,
            timestamp=happened,
            message_id=ids["t"],
        )
        client.page(
            anonymous_id=f"a{i}", name="Pricing", properties={"path": "/p"}, message_id=ids["p"]
        )
        client.screen(user_id=f"u{i}", name="Home", message_id=ids["s"])
        client.identify(user_id=f"u{i}", traits={"email": f"u{i}@example.com"}, message_id=ids["i"])
        client.alias(previous_id=f"a{i}", user_id=f"u{i}", message_id=ids["a"])
        client.group(user_id=f"u{i}", group_id=f"g{i}", traits={"plan": "pro"}, message_id=ids["g"])
        expected[ids["t"]] = {
            "name": "order_completed",
            "user": f"u{i}",
            "props": {"order": i, "total": 9.5},
        }
        expected[ids["p"]] = {
            "name": "page_viewed",
            "anon": f"a{i}",
            "props": {"path": "/p", "name": "Pricing"},
        }
        expected[ids["s"]] = {"name": "screen_viewed", "user": f"u{i}", "props": {"name": "Home"}}
        expected[ids["i"]] = {
            "name": "identify",
            "user": f"u{i}",
            "props": {"traits": {"email": f"u{i}@example.com"}},
        }
        expected[ids["a"]] = {"name": "alias", "user": f"u{i}", "props": {"previous_id": f"a{i}"}}
        expected[ids["g"]] = {
            "name": "group",
            "user": f"u{i}",
            "props": {"group_id": f"g{i}", "traits": {"plan": "pro"}},
        }
    client.flush()
    client.join()
    assert errors == []
    collector.settle()

    rows = collector.rows(
        "select event_id, product, event_name, user_id, anonymous_id, properties, context, "
        "occurred_at, sent_at, received_at, library from shared_events"
    )
    assert len(rows) == len(expected) == 6 * PER_TYPE
    for (
        event_id,
        product,
        name,
        user_id,
        anonymous_id,
        props,
        ctx,
        occurred,
        sent,
        received,
        library,
    ) in rows:
        want = expected[str(event_id)]
        assert product == PRODUCT
        assert name == want["name"]
        assert user_id == want.get("user")
        assert anonymous_id == want.get("anon")
        assert _as_dict(props) == want["props"]
        ctx = _as_dict(ctx)
        assert ctx["library"]["name"] == "analytics-python"
        assert library == f"analytics-python/{ctx['library']['version']}"
        assert ctx["ip"] == "127.0.0.1"
        assert sent is not None and _aware(received) >= _aware(occurred) - timedelta(seconds=1)
        if name == "order_completed":
            assert ctx["campaign"] == {"source": "facebook", "content": "ad-42"}
            assert ctx["user_agent"] == "Test/1.0" and "userAgent" not in ctx
            assert abs(_aware(occurred) - happened) < timedelta(seconds=5)
    assert collector.count("shared_events_rejected") == 0


def test_a_fast_client_clock_is_corrected(
    collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client's clock runs an hour fast: its `sentAt` and `timestamp` are both an hour
    ahead, and `occurred_at` comes out on the collector's clock."""
    skew = timedelta(hours=1)

    class FastClock(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            return datetime.now(tz) + skew

    monkeypatch.setattr(segment_request, "datetime", FastClock)
    client = Client(collector.key, host=collector.url, sync_mode=True)
    real_happened = datetime.now(UTC) - timedelta(minutes=10)
    message_id = str(uuid.uuid4())
    client.track(
        user_id="u1",
        event="Signup Completed",
        properties={"method": "email"},
        timestamp=real_happened + skew,
        message_id=message_id,
    )
    collector.settle()
    ((occurred, sent),) = collector.rows(
        f"select occurred_at, sent_at from shared_events where event_id = '{message_id}'"
    )
    assert abs(_aware(occurred) - real_happened) < timedelta(seconds=5)
    assert _aware(sent) - datetime.now(UTC) > timedelta(minutes=50)
