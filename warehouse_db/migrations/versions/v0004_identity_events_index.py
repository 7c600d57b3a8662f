"""An index of the identity events (`identify`, `alias`) of `shared_events`, on PostgreSQL.

The identity models read these few events on every dbt run (the emails of `identify`, the
previous ids of `alias`, docs/METRICS.md, Identity): without the index each read is a sequential scan of every
stored event. A partial index holds only those rows, so it stays small and costs nothing on
the inserts of other events. DuckDB prunes its scans itself: there this migration creates
nothing (see v0001).
"""

from __future__ import annotations

from acd_analytics.warehouse_url import Backend

VERSION = 4
NAME = "identity_events_index"

IDENTITY_EVENTS = ("identify", "alias")


def statements(backend: Backend) -> list[str]:
    if backend != "postgres":
        return []
    names = ", ".join(f"'{name}'" for name in IDENTITY_EVENTS)
    return [
        f"create index shared_events_identity_events_idx on shared_events (event_name)"
        f" where event_name in ({names})"
    ]
