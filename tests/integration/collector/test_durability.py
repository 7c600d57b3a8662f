"""Faults: `kill -9` of the collector process mid-stream, and two collectors into one warehouse."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from acd_analytics.warehouse_url import WarehouseTarget, parse_warehouse_url

from tests.integration.collector.conftest import (
    CollectorProcess,
    TcpProxy,
    start_server,
    stop_server,
    wait_until,
)
from tests.integration.sdk.conftest import query

N_BATCHES = 120
BATCH = 25


class RetryingSender(threading.Thread):
    """A client with retries: sends each batch until it gets a 200 (as Segment clients do)."""

    def __init__(self, urls: list[str], key: str, batches: list[list[dict[str, object]]]) -> None:
        super().__init__(daemon=True)
        self.urls = urls
        self.key = key
        self.batches = batches
        self.acknowledged = 0
        self.failures = 0

    def run(self) -> None:
        with httpx.Client(timeout=10) as http:
            for index, batch in enumerate(self.batches):
                deadline = time.monotonic() + 60
                while True:
                    url = self.urls[index % len(self.urls)]
                    try:
                        response = http.post(
                            url + "/v1/batch", json={"batch": batch}, auth=(self.key, "")
                        )
                        if response.status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    self.failures += 1
                    assert time.monotonic() < deadline, "the collector never came back"
                    time.sleep(0.05)
                self.acknowledged += 1


def make_batches() -> list[list[dict[str, object]]]:
    return [
        [
            {
                "type": "track",
                "event": "Item Viewed",
                "userId": f"u{b}",
                "messageId": str(uuid.uuid4()),
                "properties": {"batch": b, "item": i},
            }
            for i in range(BATCH)
        ]
        for b in range(N_BATCHES)
    ]


def test_kill_9_mid_stream_loses_nothing_acknowledged(
    warehouse: WarehouseTarget, collector_process: CollectorProcess
) -> None:
    batches = make_batches()
    collector_process.start()
    sender = RetryingSender([collector_process.url], collector_process.key, batches)
    sender.start()
    wait_until(lambda: sender.acknowledged >= N_BATCHES // 3, what="a third of the batches")
    collector_process.kill()
    killed_at = sender.acknowledged
    time.sleep(0.3)
    collector_process.start()
    sender.join(timeout=120)
    assert sender.acknowledged == N_BATCHES
    assert killed_at < N_BATCHES and sender.failures > 0  # the kill did land mid-stream
    assert collector_process.key not in collector_process.log.read_text()
    wait_until(lambda: collector_process.pending() == 0, what="the journal to be loaded")
    collector_process.stop()  # lets go of a DuckDB file
    expected = {m["messageId"] for batch in batches for m in batch}
    rows = query(warehouse, "select event_id from shared_events")
    assert len(rows) == len(expected) == N_BATCHES * BATCH
    assert {str(row[0]) for row in rows} == expected


@pytest.mark.parametrize("backend", ["postgres"])
def test_two_collectors_into_one_postgresql_store_each_event_once(
    warehouse: WarehouseTarget, write_key: str, tmp_path: Path
) -> None:
    first = CollectorProcess(warehouse, tmp_path / "journal-a", write_key, tmp_path / "a.log")
    second = CollectorProcess(warehouse, tmp_path / "journal-b", write_key, tmp_path / "b.log")
    try:
        first.start()
        second.start()
        batches = make_batches()[:40]
        # Every batch goes to both collectors: each message arrives twice, once at each.
        senders = [
            RetryingSender([first.url, second.url], write_key, batches),
            RetryingSender([second.url, first.url], write_key, batches),
        ]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(timeout=120)
            assert sender.acknowledged == len(batches)
        for process in (first, second):
            wait_until(lambda p=process: p.pending() == 0, what="the journals to be loaded")
    finally:
        first.stop()
        second.stop()
    rows = query(warehouse, "select event_id from shared_events")
    assert len(rows) == len({m["messageId"] for batch in batches for m in batch}) == 40 * BATCH


HOLD_FILE = """
import sys, time, duckdb
for attempt in range(100):
    try:
        conn = duckdb.connect(sys.argv[1])
        break
    except duckdb.IOException:
        time.sleep(0.1)
print("held", flush=True)
sys.stdin.read()
conn.close()
"""


@pytest.mark.parametrize("backend", ["duckdb"])
def test_a_duckdb_file_held_elsewhere_is_waited_for(
    warehouse: WarehouseTarget, write_key: str, tmp_path: Path
) -> None:
    """While another process (`acd-warehouse build`) holds the DuckDB file, requests are still
    acknowledged from the journal; the rows land once the file is free."""
    running = start_server(warehouse, tmp_path / "journal", write_key)
    try:
        batches = make_batches()[:10]
        assert running.post("/v1/batch", {"batch": batches[0]}).status_code == 200
        running.settle()
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_FILE, str(warehouse.duckdb_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
            for batch in batches[1:]:
                assert running.post("/v1/batch", {"batch": batch}).status_code == 200
            time.sleep(0.5)
            assert running.pending() > 0  # nothing could be loaded meanwhile
        finally:
            assert holder.stdin is not None
            holder.stdin.close()
            holder.wait(timeout=30)
        running.settle()
        assert running.count() == len(batches) * BATCH
    finally:
        stop_server(running)


@pytest.mark.parametrize("backend", ["postgres"])
def test_postgresql_stopped_mid_load_loses_and_duplicates_nothing(
    warehouse: WarehouseTarget, write_key: str, tmp_path: Path
) -> None:
    assert warehouse.host and warehouse.port
    proxy = TcpProxy(warehouse.host, warehouse.port)
    through_proxy = parse_warehouse_url(
        warehouse.url.replace(f"{warehouse.host}:{warehouse.port}", f"127.0.0.1:{proxy.port}")
    )
    running = start_server(through_proxy, tmp_path / "journal", write_key)
    try:
        batches = make_batches()
        sender = RetryingSender([running.url], write_key, batches)
        sender.start()
        wait_until(lambda: sender.acknowledged >= 10, what="some batches")
        proxy.cut()  # the warehouse goes away, mid-load or between loads
        cut_at = sender.acknowledged
        wait_until(lambda: sender.acknowledged >= cut_at + 20, what="batches during the outage")
        assert running.pending() > 0
        proxy.restore()
        sender.join(timeout=120)
        assert sender.acknowledged == N_BATCHES and sender.failures == 0
        running.settle()
    finally:
        stop_server(running)
        proxy.close()
    rows = query(warehouse, "select event_id from shared_events")
    expected = {m["messageId"] for batch in batches for m in batch}
    assert len(rows) == len(expected) and {str(row[0]) for row in rows} == expected
