"""`acd-warehouse collector --workers N`: one `/metrics` for the whole run."""

from __future__ import annotations

import re
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


@pytest.mark.parametrize("backend", ["postgres"])
def test_metrics_add_up_every_worker(
    warehouse: WarehouseTarget, write_key: str, tmp_path: Path
) -> None:
    process = CollectorProcess(
        warehouse, tmp_path / "journal", write_key, tmp_path / "collector.log", workers=2
    )
    requests = 40
    try:
        process.start()
        # Each worker opens its journal slot before it serves: wait for both.
        journal = tmp_path / "journal"
        wait_until(lambda: len(list(journal.glob("slot-*/*.journal"))) == 2, what="two workers")
        pids = set()
        for n in range(requests):
            # A new connection each time: the kernel spreads them over both workers.
            response = httpx.post(
                process.url + "/v1/track",
                json={"event": "Lesson Completed", "userId": f"u{n}", "messageId": f"m-{n}"},
                auth=(write_key, ""),
                headers={"Connection": "close"},
            )
            assert response.status_code == 200
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
        for slot in ("slot-0", "slot-1"):
            written = sum(f.stat().st_size for f in (journal / slot).glob("*.journal"))
            assert written > 0, f"no request reached the worker of {slot}"
    finally:
        process.stop()
