"""No loss, no duplicates when things go wrong (README.md, Tracking events): kill -9, warehouse outage, RLS roles."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest
from acd_analytics import Client
from acd_analytics.warehouse_url import WarehouseTarget

from tests.integration.sdk.conftest import event_count, query
from warehouse_db.roles import create_product_role

CRASHING_PRODUCER = textwrap.dedent(
    """
    import os, signal, sys, uuid
    from acd_analytics import Client

    url, spool_dir, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    client = Client(url, "portal28", spool_dir=spool_dir, batch_size=700, flush_interval=0.01)
    for number in range(count):
        if number == count // 2:
            client.flush(timeout=60)  # half delivered and checkpointed, half not
        client.track(
            "page_viewed",
            {"n": number},
            anonymous_id="crash",
            event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"crash-{number}")),
        )
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_events_survive_kill_9_and_arrive_exactly_once(
    warehouse: WarehouseTarget, spool_dir: Path
) -> None:
    count = 5_000
    result = subprocess.run(
        [sys.executable, "-c", CRASHING_PRODUCER, warehouse.url, str(spool_dir), str(count)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    before = event_count(warehouse)
    assert count // 2 <= before <= count

    client = Client(warehouse.url, "portal28", spool_dir=spool_dir)
    assert client.flush(timeout=120)
    stats = client.stats()
    client.shutdown()

    expected = {str(uuid.uuid5(uuid.NAMESPACE_URL, f"crash-{n}")) for n in range(count)}
    rows = query(warehouse, "select cast(event_id as varchar) from shared_events")
    assert len(rows) == count
    assert {row[0] for row in rows} == expected
    assert stats["replayed"] >= count - before
    # everything delivered: the journal folder holds no segment any more
    assert not list(spool_dir.rglob("seg-*.jsonl"))


class TcpProxy:
    """A local TCP relay to PostgreSQL that the test can stop (dropping every connection)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, []
        if listener is not None:
            listener.close()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                ready, _, _ = select.select([a, b], [], [], 1.0)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (b if sock is a else a).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in (a, b):
                with contextlib.suppress(OSError):
                    sock.close()


@pytest.mark.postgres
def test_outage_spills_to_the_journal_and_delivers_everything_once_back(
    postgres_url: str, spool_dir: Path
) -> None:
    from acd_analytics.warehouse_url import parse_warehouse_url

    from warehouse_db.migrations import migrate

    warehouse = parse_warehouse_url(postgres_url)
    migrate(warehouse)
    proxy = TcpProxy((warehouse.host or "127.0.0.1", warehouse.port or 5432))
    proxy.start()
    proxied_url = postgres_url.replace(
        f"@{warehouse.host}:{warehouse.port}/", f"@127.0.0.1:{proxy.port}/"
    )
    errors: list[BaseException] = []
    client = Client(
        proxied_url,
        "portal28",
        spool_dir=spool_dir,
        batch_size=500,
        flush_interval=0.05,
        max_queue_size=2_000,
        on_error=lambda exc, count: errors.append(exc),
    )
    slowest = 0.0
    tracked = 0

    def track_some(count: int, pause_every: int = 0) -> None:
        nonlocal slowest, tracked
        for number in range(count):
            started = time.perf_counter()
            client.track("page_viewed", {"n": tracked}, user_id="u1")
            slowest = max(slowest, time.perf_counter() - started)
            tracked += 1
            if pause_every and number % pause_every == 0:
                time.sleep(0.01)

    try:
        track_some(3_000)
        assert client.flush(timeout=60)
        proxy.stop()
        outage_started = time.monotonic()
        track_some(6_000, pause_every=20)  # about 3 s of traffic into a dead warehouse
        while time.monotonic() - outage_started < 4:
            time.sleep(0.1)
        during = client.stats()
        proxy.start()
        assert client.flush(timeout=120)
    finally:
        client.shutdown(timeout=10)
        proxy.stop()

    assert errors, "on_error was never told about the outage"
    assert during["spilling"] or during["spilled"] > 0
    assert query(warehouse, "select count(*), count(distinct event_id) from shared_events") == [
        (tracked, tracked)
    ]
    # Not a timing assertion: a generous bound that only catches a blocked host thread.
    print(f"slowest track() call during the outage test: {slowest * 1e3:.2f} ms")
    assert slowest < 0.2


@pytest.mark.postgres
def test_a_product_role_writes_its_events_through_row_level_security(
    postgres_url: str, spool_dir: Path
) -> None:
    from acd_analytics.warehouse_url import parse_warehouse_url

    from warehouse_db.migrations import migrate

    owner = parse_warehouse_url(postgres_url)
    migrate(owner)
    role = create_product_role(owner, "portal28")
    client = Client(role.connection_url, "portal28", spool_dir=spool_dir, batch_size=100)
    event_ids = [client.track("page_viewed", {"n": n}, user_id="u1") for n in range(1_000)]
    event_ids += event_ids[:10]
    assert client.flush(timeout=60)
    assert client.stats()["failed_attempts"] == 0
    client.shutdown()
    assert query(owner, "select product, count(*) from shared_events group by product") == [
        ("portal28", 1_000)
    ]


@pytest.mark.postgres
def test_fork_child_gets_a_fresh_consumer(postgres_url: str, spool_dir: Path) -> None:
    from acd_analytics.warehouse_url import parse_warehouse_url

    from warehouse_db.migrations import migrate

    warehouse = parse_warehouse_url(postgres_url)
    migrate(warehouse)
    client = Client(postgres_url, "portal28", spool_dir=spool_dir, batch_size=50)
    for number in range(200):
        client.track("page_viewed", {"n": number}, anonymous_id="parent")
    assert client.flush(timeout=60)
    pid = os.fork()
    if pid == 0:  # the child: track and flush through its own consumer, then leave at once
        code = 1
        try:
            for number in range(300):
                client.track("page_viewed", {"n": number}, anonymous_id="child")
            code = 0 if client.flush(timeout=60) else 2
        finally:
            os._exit(code)
    for number in range(100):
        client.track("page_viewed", {"n": number}, anonymous_id="parent")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert client.flush(timeout=60)
    client.shutdown()
    assert query(
        warehouse,
        "select anonymous_id, count(*) from shared_events group by anonymous_id order by 1",
    ) == [("child", 300), ("parent", 300)]
