"""Benchmark of the HTTP collector against the raw database limit and the in-process SDK.

    .venv/bin/python bench/collector_throughput.py [--duration 10] [--backends postgres,duckdb]

Needs `wrk` (Debian package `wrk`): the load comes from a separate C process on 127.0.0.1, so
the generator is not the bottleneck and does not share the collector's interpreter. For each
warehouse a fresh, migrated database, one write key, and `acd-warehouse collector` as a child
process (durable acknowledgement: every 200 is journaled and fsynced first), then:

- single: `POST /v1/track`, one realistic event per request (six properties and a campaign
  context, a unique messageId each), as many connections as `--connections`;
- batched: `POST /v1/batch` with 100 such events per request;
- below saturation: the single-event load with `--light-connections`, for the latency a
  client sees when the collector is not the bottleneck.

`--in-process` times instead the Python work of a batch request without HTTP, journal or
warehouse: parsing a realistic 100-event body and turning its messages into journal lines,
as `POST /v1/batch` does (µs per event, thread CPU time, best of several rounds).

Each pass reports requests/s, events/s, p50/p99 latency (wrk's), the non-200 answers, the
collector's peak RSS (all its processes), and lost = events acknowledged minus events stored
once the journal is loaded. In the same run, the baselines: a binary `COPY` of the same
rows into PostgreSQL (the Arrow insert on DuckDB), and the in-process SDK (`Client.track`)
with the same event. PostgreSQL comes from `ACD_BENCH_POSTGRES_URL`.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sdk_throughput import Warehouse, bench_duckdb_arrow, bench_postgres_copy, bench_sdk
from wrk import free_port, peak_rss_mb, run_wrk

from collector.keys import create_key

CLI = str(Path(sys.executable).with_name("acd-warehouse"))
BATCH = 100


def realistic_properties(number: int) -> dict[str, Any]:
    return {
        "course_id": f"course_{number % 500}",
        "lesson": number % 40,
        "plan": "pro",
        "revenue": 49.0,
        "currency": "USD",
        "path": f"/courses/{number % 500}/lessons/{number % 40}",
    }


REALISTIC_CONTEXT = {
    "campaign": {
        "source": "facebook",
        "medium": "paid_social",
        "name": "120210000000000001",
        "content": "120210000000000042",
        "fbclid": "IwAR2benchmarkClickId",
    },
    "page": {"url": "https://portal28.example.com/courses", "path": "/courses"},
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36",
    "locale": "en-US",
}


def _message_template() -> str:
    """One track message as JSON, with `%d` holes for wrk's thread number and counter."""
    now = datetime.now(UTC)
    message = {
        "type": "track",
        "event": "Lesson Completed",
        "userId": "bench-user",
        "messageId": "MESSAGE_ID",
        "timestamp": (now - timedelta(seconds=2)).isoformat(),
        "sentAt": now.isoformat(),
        "properties": realistic_properties(7),
        "context": {**REALISTIC_CONTEXT, "library": {"name": "wrk", "version": "4"}},
    }
    text = json.dumps(message, separators=(",", ":")).replace("%", "%%")
    return text.replace("MESSAGE_ID", "bench-%d-%d")


def wrk_script(path: str, key: str, per_request: int) -> str:
    """A wrk Lua script posting `per_request` unique messages per request to `path`."""
    auth = base64.b64encode(f"{key}:".encode()).decode()
    template = _message_template().replace("\\", "\\\\").replace('"', '\\"')
    return f"""
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local counter = 0
local template = "{template}"
wrk.method = "POST"
wrk.path = "{path}"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Basic {auth}"
function request()
  local parts = {{}}
  for i = 1, {per_request} do
    counter = counter + 1
    parts[i] = string.format(template, tid, counter)
  end
  local body
  if {per_request} == 1 then body = parts[1] else
    body = '{{"batch":[' .. table.concat(parts, ",") .. ']}}'
  end
  return wrk.format(nil, nil, nil, body)
end
"""


class CollectorProcess:
    def __init__(
        self, warehouse: Warehouse, workdir: Path, workers: int, journal_dir: Path
    ) -> None:
        assert warehouse.target is not None
        self.target = warehouse.target
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "ACD_WAREHOUSE_URL": self.target.url,
            "ACD_COLLECTOR_JOURNAL_DIR": str(journal_dir),
            "ACD_COLLECTOR_RATE_LIMIT": "1000000000",  # the benchmark measures the collector
        }
        self.log = (workdir / f"collector-{self.port}.log").open("wb")
        self.proc = subprocess.Popen(
            [CLI, "collector", "--port", str(self.port), "--workers", str(workers)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while not self._get("/health"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the collector did not start; see {self.log.name}")
            time.sleep(0.2)

    def _get(self, path: str) -> dict[str, Any] | None:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as response:
                return json.loads(response.read() or b"{}")
        except (OSError, ValueError):
            return None

    def settle(self, timeout: float = 600, quiet: int = 10) -> None:
        """Wait until the journal is loaded: `quiet` readings in a row with nothing pending.
        Each reading is a new connection, which any worker process may answer for its own
        journal slot, so one zero is not enough with several workers."""
        deadline = time.monotonic() + timeout
        zeros = 0
        while time.monotonic() < deadline:
            ready = self._get("/ready")
            pending = 1 if ready is None else int(ready.get("journal_pending_bytes", 1))
            zeros = zeros + 1 if pending == 0 else 0
            if zeros >= quiet:
                return
            time.sleep(0.1)
        raise RuntimeError("the journal was not loaded in time")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def bench_collector(
    warehouse: Warehouse,
    workdir: Path,
    *,
    per_request: int,
    connections: int,
    duration: int,
    workers: int,
) -> dict[str, Any]:
    target = warehouse.fresh()
    key = create_key(target, "portal28", [])[1]
    journal = workdir / f"journal-{uuid.uuid4().hex[:8]}"
    collector = CollectorProcess(warehouse, workdir, workers, journal)
    try:
        path = "/v1/track" if per_request == 1 else "/v1/batch"
        script = workdir / f"wrk-{per_request}.lua"
        script.write_text(wrk_script(path, key, per_request))
        result = run_wrk(collector.url, script, connections, duration)
        started = time.perf_counter()
        collector.settle()
        result["load_after_s"] = time.perf_counter() - started
        result["peak_rss_mb"] = peak_rss_mb(collector.proc.pid)
    finally:
        collector.stop()
    stored = warehouse.count()
    # Whatever a stopped worker had not loaded yet is durable in its journal slot: a new
    # collector on the same journal loads it. Only what is missing after that is lost.
    drain = CollectorProcess(warehouse, workdir, 1, journal)
    try:
        drain.settle()
    finally:
        drain.stop()
    acknowledged = (result["requests"] - result["non_200"]) * per_request
    final = warehouse.count()
    result["events_per_s"] = result["requests_per_s"] * per_request
    result["loaded_after_restart"] = final - stored
    # wrk stops with requests in flight: those may be stored without being counted as answered.
    result["lost"] = max(0, acknowledged - final)
    result["stored_unanswered"] = max(0, final - acknowledged)
    return result


def batch_body(first: int, count: int = BATCH) -> bytes:
    """A realistic batch body: `count` track messages with unique messageIds, each its own
    timestamp, one sentAt (as analytics-next and analytics-node send them)."""
    now = datetime.now(UTC)
    messages = []
    for n in range(first, first + count):
        messages.append(
            {
                "type": "track",
                "event": "Lesson Completed",
                "userId": f"user-{n % 1000}",
                "messageId": f"ajs-next-{n}-{uuid.uuid4().hex[:12]}",
                "timestamp": (now - timedelta(milliseconds=2000 + n % 997)).isoformat(),
                "sentAt": now.isoformat(),
                "properties": realistic_properties(n),
                "context": {**REALISTIC_CONTEXT, "library": {"name": "wrk", "version": "4"}},
            }
        )
    return json.dumps({"batch": messages}, separators=(",", ":")).encode()


def bench_in_process(bodies: int = 200, rounds: int = 7) -> dict[str, Any]:
    """µs per event of `POST /v1/batch`'s Python work on realistic 100-event bodies."""
    from collector import app, wire

    raws = [batch_body(index * BATCH) for index in range(bodies)]

    def handle(raw: bytes) -> int:
        value = wire.parse_json(raw, check_depth=False)
        serialized = wire.check_batch_depth(value, raw)
        body = wire.body_object(value)
        messages = wire.batch_messages(body)
        context = body.get("context")
        info = wire.RequestInfo(
            product="portal28",
            received_at=datetime.now(UTC),
            client_ip="127.0.0.1",
            batch_context=context if isinstance(context, dict) else None,
            batch_sent_at=body.get("sentAt"),
        )
        lines, rejections = app.journal_lines(messages, None, info, serialized)
        assert not rejections, rejections[0]
        return len(b"".join(lines))

    best_cpu = best_wall = float("inf")
    for _ in range(rounds):
        cpu, wall = time.thread_time(), time.perf_counter()
        for raw in raws:
            handle(raw)
        best_cpu = min(best_cpu, time.thread_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    events = bodies * BATCH
    return {
        "body_bytes": len(raws[0]),
        "cpu_us_per_event": best_cpu / events * 1e6,
        "wall_us_per_event": best_wall / events * 1e6,
        "load_average": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per load pass")
    parser.add_argument("--backends", default="postgres,duckdb")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--light-connections", type=int, default=4)
    parser.add_argument(
        "--workers", default="1,2", help="collector worker processes, one pass set per count"
    )
    parser.add_argument("--events", type=int, default=100_000, help="events for the baselines")
    parser.add_argument(
        "--in-process", action="store_true", help="time the batch path's Python work only"
    )
    args = parser.parse_args()
    if args.in_process:
        print(json.dumps(bench_in_process(), indent=2))
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    results: dict[str, Any] = {"cpus": os.cpu_count(), "load_average_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="acd-bench-collector-") as tmp:
        workdir = Path(tmp)
        for backend in args.backends.split(","):
            warehouse = Warehouse(backend, workdir)
            passes = {}
            for workers in (int(n) for n in args.workers.split(",")):
                label = f"{workers} worker{'s' if workers > 1 else ''}"
                passes |= {
                    f"collector ({label}) single → {backend}": (1, args.connections, workers),
                    f"collector ({label}) single, {args.light_connections} connections → "
                    f"{backend}": (1, args.light_connections, workers),
                    f"collector ({label}) batch of {BATCH} → {backend}": (
                        BATCH,
                        args.connections,
                        workers,
                    ),
                }
            try:
                for name, (per_request, connections, workers) in passes.items():
                    results[name] = bench_collector(
                        warehouse,
                        workdir,
                        per_request=per_request,
                        connections=connections,
                        duration=args.duration,
                        workers=workers,
                    )
                limit = bench_postgres_copy if backend == "postgres" else bench_duckdb_arrow
                results[f"limit → {backend}"] = limit(
                    warehouse, args.events, realistic_properties, REALISTIC_CONTEXT
                )
                results[f"in-process SDK → {backend}"] = bench_sdk(
                    warehouse, args.events, workdir, None, realistic_properties, REALISTIC_CONTEXT
                )
            finally:
                warehouse.drop()
    print(json.dumps(results, indent=2, ensure_ascii=False))
    print()
    print("| path | requests/s | events/s | p50 ms | p99 ms | non-200 | peak RSS MB | lost |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, row in results.items():
        if not isinstance(row, dict):
            continue

        def cell(field: str, spec: str, row: dict[str, Any] = row) -> str:
            return format(row[field], spec) if field in row else "—"

        print(
            f"| {name} | {cell('requests_per_s', ',.0f')} | {cell('events_per_s', ',.0f')} "
            f"| {cell('p50_ms', '.1f')} | {cell('p99_ms', '.1f')} | {cell('non_200', ',')} "
            f"| {cell('peak_rss_mb', '.0f')} | {cell('lost', ',')} |"
        )


if __name__ == "__main__":
    main()
