"""The client's delivery machinery with a fake sink and with a DuckDB file (no warehouse packages).

The DuckDB tests create `shared_events` from a small DDL here, so they need only
`acd-analytics[duckdb]`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from acd_analytics import Client, InvalidEvent
from acd_analytics.events import EventRecord

DDL = """
create table shared_events (
    event_id uuid primary key,
    product text not null,
    event_name text not null,
    user_id text,
    anonymous_id text,
    session_id text,
    occurred_at timestamptz not null,
    sent_at timestamptz,
    received_at timestamptz not null default current_timestamp,
    properties json not null,
    context json not null,
    library text,
    check (user_id is not null or anonymous_id is not null)
)
"""


class FlakySink:
    """Stores event ids like a table keyed by event_id; fails while `down` is set."""

    def __init__(self) -> None:
        self.rows: dict[str, EventRecord] = {}
        self.writes = 0
        self.down = threading.Event()

    def write(self, records: Sequence[EventRecord], sent_at_us: int, library: str) -> None:
        if self.down.is_set():
            raise ConnectionError("warehouse unreachable")
        self.writes += 1
        for record in records:
            self.rows.setdefault(record[0], record)

    def close(self) -> None:
        pass

    def abandon(self) -> None:
        pass


def make_client(tmp_path: Path, sink: FlakySink, **options: Any) -> Client:
    return Client(
        "duckdb:///unused.duckdb", "portal28", spool_dir=tmp_path / "spool", sink=sink, **options
    )


def test_background_delivery_is_exactly_once(tmp_path: Path) -> None:
    sink = FlakySink()
    client = make_client(tmp_path, sink, batch_size=100)
    ids = [client.track("page_viewed", {"n": n}, user_id="u") for n in range(1_000)]
    assert client.flush(timeout=30)
    assert set(sink.rows) == set(ids)
    assert client.stats()["delivered"] == 1_000
    assert client.shutdown()
    assert not list((tmp_path / "spool").rglob("seg-*.jsonl"))


def test_outage_spills_to_the_journal_then_delivers_everything(tmp_path: Path) -> None:
    sink = FlakySink()
    errors: list[BaseException] = []
    client = make_client(
        tmp_path,
        sink,
        batch_size=50,
        max_queue_size=100,
        flush_interval=0.01,
        on_error=lambda exc, count: errors.append(exc),
    )
    sink.down.set()
    ids = [client.track("page_viewed", {"n": n}, user_id="u") for n in range(2_000)]
    assert not client.flush(timeout=0.5)  # the warehouse is down: flush gives up, no exception
    stats = client.stats()
    assert stats["queued"] <= 100 and stats["spilled"] > 0
    assert errors and isinstance(errors[0], ConnectionError)
    sink.down.clear()
    assert client.flush(timeout=60)
    assert set(sink.rows) == set(ids)
    client.shutdown()


def test_undelivered_events_wait_in_the_journal_for_the_next_client(tmp_path: Path) -> None:
    sink = FlakySink()
    sink.down.set()
    first = make_client(tmp_path, sink, on_error=lambda exc, count: None)
    ids = [first.track("signup_completed", {"method": "email"}, user_id="u") for _ in range(300)]
    assert not first.shutdown(timeout=0.3)
    assert list((tmp_path / "spool").rglob("seg-*.jsonl"))

    sink.down.clear()
    second = make_client(tmp_path, sink)
    assert second.flush(timeout=30)
    assert set(sink.rows) == set(ids)
    assert second.stats()["replayed"] == 300
    second.shutdown()
    assert not list((tmp_path / "spool").rglob("seg-*.jsonl"))


def test_sync_mode_failure_keeps_the_event_for_the_next_call(tmp_path: Path) -> None:
    sink = FlakySink()
    errors: list[BaseException] = []
    client = make_client(tmp_path, sink, sync_mode=True, on_error=lambda e, n: errors.append(e))
    first = client.track("page_viewed", user_id="u")
    assert first in sink.rows
    sink.down.set()
    second = client.track("page_viewed", user_id="u")  # no exception reaches the caller
    assert second not in sink.rows and errors
    sink.down.clear()
    assert client.flush()
    assert set(sink.rows) == {first, second}
    client.shutdown()


def test_disabled_client_validates_but_writes_nothing(tmp_path: Path) -> None:
    sink = FlakySink()
    client = make_client(tmp_path, sink, disabled=True)
    client.track("page_viewed", user_id="u")
    with pytest.raises(InvalidEvent):
        client.track("page_viewed")
    assert client.flush() and not sink.rows
    assert not (tmp_path / "spool").exists()


def test_settings_fall_back_to_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACD_WAREHOUSE_URL", f"duckdb:///{tmp_path / 'env.duckdb'}")
    monkeypatch.setenv("ACD_PRODUCT", "waitlistlab")
    monkeypatch.setenv("ACD_SPOOL_DIR", str(tmp_path / "env-spool"))
    sink = FlakySink()
    client = Client(sink=sink)
    event_id = client.track("page_viewed", anonymous_id="a")
    assert client.flush(timeout=30)
    assert sink.rows[event_id][1] == "waitlistlab"
    assert client.stats()["journal_dir"].startswith(str(tmp_path / "env-spool"))
    client.shutdown()


def test_without_a_product_the_call_names_the_field(tmp_path: Path) -> None:
    client = Client("duckdb:///x.duckdb", spool_dir=tmp_path, sink=FlakySink())
    with pytest.raises(InvalidEvent, match=r"^product"):
        client.track("page_viewed", user_id="u")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_delivers_through_its_own_consumer(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    path = tmp_path / "fork.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(DDL)
    client = Client(f"duckdb:///{path}", "portal28", spool_dir=tmp_path / "spool")
    client.track("page_viewed", anonymous_id="parent")
    assert client.flush(timeout=30)
    client.shutdown()  # DuckDB: one writing process at a time, so the parent lets go first
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            client.track("page_viewed", anonymous_id="child")
            code = 0 if client.flush(timeout=30) else 2
            client.shutdown()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    with duckdb.connect(str(path)) as conn:
        rows = conn.execute("select anonymous_id from shared_events order by 1").fetchall()
    assert rows == [("child",), ("parent",)]


def test_duckdb_round_trip_in_sync_mode(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(DDL)
    client = Client(f"duckdb:///{path}", "portal28", spool_dir=tmp_path / "spool", sync_mode=True)
    ids = [
        client.track("purchase_completed", {"revenue": 9.99, "currency": "EUR"}, user_id="u"),
        client.identify("u", {"email": "u@example.com"}),
        client.alias("anon-1", "u"),
    ]
    ids.append(client.track("page_viewed", user_id="u", event_id=ids[0]))  # a re-send
    client.shutdown()
    with duckdb.connect(str(path)) as conn:
        rows = conn.execute(
            "select cast(event_id as varchar), event_name from shared_events order by event_name"
        ).fetchall()
    assert sorted(rows) == sorted(
        [(ids[0], "purchase_completed"), (ids[1], "identify"), (ids[2], "alias")]
    )
