"""Product events of the sample world, and the one function that hands them to the SDK.

The generator yields `WorldEvent`s as a stream; `SdkEventWriter` delivers each through the
tracking SDK (`acd_analytics.Client`) exactly as a product would, with the world's
deterministic `event_id`s so that a second run is idempotent and identical.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class WorldEvent:
    """One product event; `event_name` `identify` and `alias` use the SDK's own calls."""

    event_id: str
    event_name: str
    product: str
    occurred_at: datetime
    user_id: str | None = None
    anonymous_id: str | None = None
    session_id: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)


class EventWriter(Protocol):
    def write(self, event: WorldEvent) -> None: ...


class CountingEventWriter:
    """Counts events without writing them (generation-only benchmarks and dry runs)."""

    def __init__(self) -> None:
        self.count = 0
        self.by_name: dict[str, int] = {}

    def write(self, event: WorldEvent) -> None:
        self.count += 1
        self.by_name[event.event_name] = self.by_name.get(event.event_name, 0) + 1


class ListEventWriter:
    """Keeps every event in memory (small worlds in tests)."""

    def __init__(self) -> None:
        self.events: list[WorldEvent] = []

    def write(self, event: WorldEvent) -> None:
        self.events.append(event)


class SdkEventWriter:
    """Delivers world events through an `acd_analytics.Client` (typed `Any`: any SDK version)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.count = 0

    def write(self, event: WorldEvent) -> None:
        deliver(self.client, event)
        self.count += 1


def deliver(client: Any, event: WorldEvent) -> None:
    """Hand one world event to the SDK."""
    common: dict[str, Any] = {
        "product": event.product,
        "occurred_at": event.occurred_at,
        "event_id": event.event_id,
        "context": event.context,
    }
    if event.session_id is not None:
        common["session_id"] = event.session_id
    if event.event_name == "identify":
        assert event.user_id is not None
        client.identify(
            event.user_id,
            event.properties["traits"],
            anonymous_id=event.anonymous_id,
            **common,
        )
    elif event.event_name == "alias":
        assert event.user_id is not None
        client.alias(event.properties["previous_id"], event.user_id, **common)
    else:
        client.track(
            event.event_name,
            event.properties,
            user_id=event.user_id,
            anonymous_id=event.anonymous_id,
            **common,
        )


def write_all(events: Iterable[WorldEvent], writer: EventWriter) -> int:
    count = 0
    for event in events:
        writer.write(event)
        count += 1
    return count
