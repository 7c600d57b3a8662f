"""The client's delivery machinery with a fake sink and with a DuckDB file (no warehouse packages).

The DuckDB tests create `shared_events` from a small DDL here, so they need only
`acd-analytics[duckdb]`.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from acd_analytics import Client, EventsQuarantined, InvalidEvent, RejectedRows
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


# -- rows the warehouse refuses for good: bisect, quarantine, go on -------------------------------


class PoisonSink(FlakySink):
    """Refuses for good any batch holding a record whose properties mention "poison"."""

    def __init__(self, fail_transiently_on_call: int | None = None) -> None:
        super().__init__()
        self.calls = 0
        self.fail_transiently_on_call = fail_transiently_on_call

    def write(self, records: Sequence[EventRecord], sent_at_us: int, library: str) -> None:
        self.calls += 1
        if self.calls == self.fail_transiently_on_call:
            raise ConnectionError("connection reset in the middle of the bisection")
        if any("poison" in record[7] for record in records):
            raise RejectedRows("check constraint violated")
        super().write(records, sent_at_us, library)


def quarantined_entries(spool: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in sorted(spool.rglob("quarantine/*.jsonl"))
        for line in path.read_text().splitlines()
    ]


@pytest.mark.parametrize("sync_mode", [False, True], ids=["background", "sync"])
def test_refused_rows_are_quarantined_and_the_rest_is_delivered(
    tmp_path: Path, sync_mode: bool
) -> None:
    sink = PoisonSink()
    errors: list[tuple[BaseException, int]] = []
    client = make_client(
        tmp_path,
        sink,
        batch_size=200,
        sync_mode=sync_mode,
        on_error=lambda exc, count: errors.append((exc, count)),
    )
    poison_at = {3, 250, 251, 999}
    good: list[str] = []
    bad: list[str] = []
    for n in range(1_000):
        properties = {"n": n, "kind": "poison" if n in poison_at else "fine"}
        (bad if n in poison_at else good).append(
            client.track("page_viewed", properties, user_id="u")
        )
    assert client.flush(timeout=30)  # not blocked behind the refused rows
    later = [client.track("page_viewed", {"n": n}, user_id="u") for n in range(100)]
    assert client.flush(timeout=30)
    stats = client.stats()
    client.shutdown()

    assert set(sink.rows) == set(good) | set(later)
    assert stats["quarantined"] == len(bad) and stats["delivered"] == len(good) + len(later)
    assert stats["failed_attempts"] == 0  # a refusal is not an outage: no backoff
    entries = quarantined_entries(tmp_path / "spool")
    assert sorted(entry["event"]["event_id"] for entry in entries) == sorted(bad)
    assert all(entry["error"] == "RejectedRows: check constraint violated" for entry in entries)
    assert all(json.loads(entry["event"]["properties"])["kind"] == "poison" for entry in entries)
    reported = [exc for exc, _ in errors if isinstance(exc, EventsQuarantined)]
    assert sorted(i for exc in reported for i in exc.event_ids) == sorted(bad)
    assert sum(count for exc, count in errors if isinstance(exc, EventsQuarantined)) == len(bad)
    # the journal is done with; the quarantine file stays for a person to look at
    assert not list((tmp_path / "spool").glob("*/seg-*.jsonl"))


def test_a_transient_error_during_bisection_retries_without_double_quarantine(
    tmp_path: Path,
) -> None:
    sink = PoisonSink(fail_transiently_on_call=4)
    errors: list[BaseException] = []
    client = make_client(
        tmp_path, sink, batch_size=64, on_error=lambda exc, count: errors.append(exc)
    )
    bad = [client.track("page_viewed", {"kind": "poison"}, user_id="u")]
    good = [client.track("page_viewed", {"n": n}, user_id="u") for n in range(63)]
    assert client.flush(timeout=30)
    stats = client.stats()
    client.shutdown()
    assert set(sink.rows) == set(good)
    assert any(isinstance(exc, ConnectionError) for exc in errors)
    assert stats["failed_attempts"] == 1 and stats["quarantined"] == 1
    assert [entry["event"]["event_id"] for entry in quarantined_entries(tmp_path / "spool")] == bad


def test_transient_errors_are_retried_and_never_quarantined(tmp_path: Path) -> None:
    sink = FlakySink()
    sink.down.set()
    client = make_client(tmp_path, sink, batch_size=10, flush_interval=0.01)
    ids = [client.track("page_viewed", {"n": n}, user_id="u") for n in range(50)]
    assert not client.flush(timeout=0.5)
    assert client.stats()["quarantined"] == 0 and client.stats()["failed_attempts"] > 0
    sink.down.clear()
    assert client.flush(timeout=30)
    assert set(sink.rows) == set(ids) and client.stats()["quarantined"] == 0
    client.shutdown()
    assert not list((tmp_path / "spool").rglob("quarantine"))


def test_duckdb_check_violation_is_quarantined_and_later_events_arrive(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as conn:  # one more rule than the SDK knows about
        conn.execute(
            DDL.replace("check (", "check (session_id is distinct from 'banned'), check (")
        )
    errors: list[BaseException] = []
    client = Client(
        f"duckdb:///{path}",
        "portal28",
        spool_dir=tmp_path / "spool",
        batch_size=100,
        on_error=lambda exc, count: errors.append(exc),
    )
    ids = [
        client.track(
            "page_viewed", {"n": n}, user_id="u", session_id="banned" if n % 97 == 5 else "s"
        )
        for n in range(500)
    ]
    assert client.flush(timeout=60)
    stats = client.stats()
    client.shutdown()
    bad = [event_id for n, event_id in enumerate(ids) if n % 97 == 5]
    with duckdb.connect(str(path)) as conn:
        stored = {
            row[0] for row in conn.execute("select event_id::varchar from shared_events").fetchall()
        }
    assert stored == set(ids) - set(bad)
    assert stats["quarantined"] == len(bad) == 6
    entries = quarantined_entries(tmp_path / "spool")
    assert sorted(entry["event"]["event_id"] for entry in entries) == sorted(bad)
    assert all("ConstraintException" in entry["error"] for entry in entries)
    assert any(isinstance(exc, EventsQuarantined) for exc in errors)


def test_duckdb_stores_every_character_exactly_from_memory_and_from_the_journal(
    tmp_path: Path,
) -> None:
    duckdb = pytest.importorskip("duckdb")
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(DDL)
    tricky = 'quote " backslash \\ newline \n tab \t é 日本 🎉 \u2028 nul \x00 end'
    url = f"duckdb:///{path}"
    events = {
        "user_id": f"u {tricky}",
        "anonymous_id": None,
        "session_id": f"s {tricky}",
        "properties": {"text": tricky, "n": 2**53, "x": 1.5, "list": [None, True, "é"]},
        "context": {"page": {"url": f"https://e.x/?q={tricky}"}, "locale": "fr-FR"},
    }

    def track(client: Client) -> str:
        return client.track(
            "page_viewed",
            events["properties"],
            user_id=events["user_id"],
            session_id=events["session_id"],
            context=events["context"],
        )

    down = FlakySink()
    down.down.set()
    first = Client(url, "portal28", spool_dir=tmp_path / "spool", sink=down, on_error=print)
    from_journal = track(first)
    assert not first.shutdown(timeout=0.2)  # left in the journal for the next client

    client = Client(url, "portal28", spool_dir=tmp_path / "spool")
    from_memory = track(client)
    assert client.flush(timeout=30)
    assert client.stats()["replayed"] == 1
    client.shutdown()
    with duckdb.connect(str(path)) as conn:
        rows = conn.execute(
            "select cast(event_id as varchar), user_id, anonymous_id, session_id, "
            "cast(properties as varchar), cast(context as varchar) from shared_events"
        ).fetchall()
    assert {row[0] for row in rows} == {from_journal, from_memory}
    for row in rows:
        assert row[1:4] == (events["user_id"], None, events["session_id"])
        assert json.loads(row[4]) == events["properties"]
        assert json.loads(row[5]) == events["context"]
