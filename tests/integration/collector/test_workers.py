"""`acd-warehouse collector --workers N`: one `/metrics` for the whole run."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest
from acd_analytics.warehouse_url import WarehouseTarget

from tests.integration.collector.conftest import CollectorProcess, wait_until

PENDING = "acd_collector_journal_pending_bytes"


def sample(metrics: str, name: str) -> float:
    match = re.search(rf"^{name} (\S+)$", metrics, re.MULTILINE)
    assert match, f"{name} is not in /metrics"
    return float(match.group(1))


def journaled(journal: Path, slot: str) -> int:
    """The bytes in `slot`'s journal segments."""
    return sum(f.stat().st_size for f in (journal / slot).glob("*.journal"))


@pytest.mark.parametrize("backend", ["postgres"])
def test_metrics_add_up_every_worker(
    warehouse: WarehouseTarget, write_key: str, tmp_path: Path
) -> None:
    process = CollectorProcess(
        warehouse, tmp_path / "journal", write_key, tmp_path / "collector.log", workers=2
    )
    slots = ("slot-0", "slot-1")
    try:
        process.start()
        # Each worker opens its journal slot before it serves: wait for both.
        journal = tmp_path / "journal"
        wait_until(lambda: len(list(journal.glob("slot-*/*.journal"))) == 2, what="two workers")
        pids = set()
        # A new connection each time: the kernel hands each to either worker, not always
        # evenly, so the test sends at least 40 and then more until both have journaled one
        # (a request is journaled before its 200).
        requests = 0
        deadline = time.monotonic() + 60
        while requests < 40 or not all(journaled(journal, slot) for slot in slots):
            assert requests < 2000 and time.monotonic() < deadline, (
                f"after {requests} requests, only "
                f"{[slot for slot in slots if journaled(journal, slot)]} took any"
            )
            response = httpx.post(
                process.url + "/v1/track",
                json={
                    "event": "Lesson Completed",
                    "userId": f"u{requests}",
                    "messageId": f"m-{requests}",
                },
                auth=(write_key, ""),
                headers={"Connection": "close"},
            )
            assert response.status_code == 200
            requests += 1
        answers = []
        for _ in range(20):
            metrics = httpx.get(process.url + "/metrics", headers={"Connection": "close"}).text
            pids.update(re.findall(r'pid="(\d+)"', metrics))
            answers.append(sample(metrics, "acd_collector_events_accepted_total"))
        # Whichever worker answers, it counts every worker's events.
        assert answers == [float(requests)] * len(answers)
        assert not pids, "a gauge is reported per process instead of summed"
        # The pending bytes of both slots, summed, reach zero once both loaders are done.
        wait_until(
            lambda: sample(httpx.get(process.url + "/metrics").text, PENDING) == 0,
            what="both journals to be loaded",
        )
        metrics = httpx.get(process.url + "/metrics").text
        assert sample(metrics, "acd_collector_journal_bytes") > 0
        # Both workers took requests (each journals into its own slot).
        for slot in slots:
            assert journaled(journal, slot) > 0, f"no request reached the worker of {slot}"
    finally:
        process.stop()
