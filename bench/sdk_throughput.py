"""Benchmark of the tracking SDK (issue 3) against Segment's client and the raw bulk paths.

    .uv/bin/uv run --group bench python bench/sdk_throughput.py [--events 100000]

For each warehouse (PostgreSQL, DuckDB) and each client, one burst of N `track` calls as fast
as one thread can make them, then `flush()`:

- per call: the median duration of a `track` call (each call timed with perf_counter_ns);
- end to end: N / (time from the first call until every row is committed, i.e. `flush()`
  returned and the rows are counted in the table, or in the sink for Segment);
- lost: N minus the distinct events that arrived;
- cpu: CPU seconds the whole process used meanwhile (all threads, DuckDB's included), a figure
  that moves less than wall time when other work shares the machine.

Run it several times, alternating the versions compared: each run is a fresh process. Each
client delivers one warm-up event before the timed burst (connection opened, driver imported:
a long-running host pays that once), so the figures are sustained throughput.

Baselines: `segment-analytics-python` (bench group only) pointed at a local HTTP sink on
127.0.0.1 run in a separate process (so it does not share our GIL), with its published
defaults and with its queue enlarged to hold the whole burst; and the limit of each database:
a binary `COPY` of the same rows straight into `shared_events` (PostgreSQL) and one
`INSERT … SELECT` from an Arrow table (DuckDB). The SDK runs with durability on (journal).
PostgreSQL comes from `ACD_BENCH_POSTGRES_URL` (default: the local server as postgres).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from acd_analytics import Client
from acd_analytics.warehouse_url import WarehouseTarget, parse_warehouse_url
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from warehouse_db.migrations import migrate

ADMIN_URL = os.environ.get(
    "ACD_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def properties(number: int) -> dict[str, Any]:
    return {"path": f"/courses/{number % 500}", "referrer": "https://www.google.com/", "n": number}


# ---------------------------------------------------------------------------------------------
# warehouses


class Warehouse:
    def __init__(self, backend: str, workdir: Path) -> None:
        self.backend = backend
        self.workdir = workdir
        self.database: str | None = None
        self.target: WarehouseTarget | None = None

    def fresh(self) -> WarehouseTarget:
        """A new, migrated, empty warehouse (the previous one is dropped)."""
        self.drop()
        if self.backend == "duckdb":
            path = self.workdir / f"bench-{uuid.uuid4().hex[:8]}.duckdb"
            self.target = parse_warehouse_url(f"duckdb:///{path}")
        else:
            admin = parse_warehouse_url(ADMIN_URL)
            self.database = f"acd_bench_{uuid.uuid4().hex[:10]}"
            with psycopg.connect(admin.postgres_conninfo or "", autocommit=True) as conn:
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(self.database)))
            self.target = parse_warehouse_url(ADMIN_URL.rsplit("/", 1)[0] + f"/{self.database}")
        migrate(self.target)
        return self.target

    def count(self) -> int:
        assert self.target is not None
        if self.backend == "duckdb":
            import duckdb

            with duckdb.connect(self.target.duckdb_path or "") as conn:
                row = conn.execute("select count(distinct event_id) from shared_events").fetchone()
        else:
            with psycopg.connect(self.target.postgres_conninfo or "") as conn:
                row = conn.execute("select count(distinct event_id) from shared_events").fetchone()
        return int(row[0]) if row else 0

    def drop(self) -> None:
        if self.database is not None:
            admin = parse_warehouse_url(ADMIN_URL)
            with psycopg.connect(admin.postgres_conninfo or "", autocommit=True) as conn:
                conn.execute(
                    sql.SQL("drop database if exists {} with (force)").format(
                        sql.Identifier(self.database)
                    )
                )
            self.database = None


# ---------------------------------------------------------------------------------------------
# measurements


def burst(track: Callable[[int], object], events: int) -> tuple[float, float]:
    """Call `track(n)` for n in range(events): (median µs per call, seconds in total)."""
    durations = [0] * events
    clock = time.perf_counter_ns
    started = clock()
    for number in range(events):
        before = clock()
        track(number)
        durations[number] = clock() - before
    return statistics.median(durations) / 1000, (clock() - started) / 1e9


Properties = Callable[[int], dict[str, Any]]


def bench_sdk(
    warehouse: Warehouse,
    events: int,
    workdir: Path,
    batch_size: int | None,
    props: Properties = properties,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    target = warehouse.fresh()
    options = {} if batch_size is None else {"batch_size": batch_size}
    client = Client(
        target.url, "portal28", spool_dir=workdir / f"spool-{uuid.uuid4().hex[:6]}", **options
    )
    track = client.track
    # Sustained throughput: the first event opens the connection and imports the driver (a
    # once-per-process cost of a long-running host), so it is delivered before timing starts.
    track("page_viewed", props(-1), user_id="warm-up", context=context)
    client.flush(timeout=60)
    cpu_started = time.process_time()
    started = time.perf_counter()
    per_call, _ = burst(
        lambda n: track("page_viewed", props(n), user_id=f"u{n % 1000}", context=context), events
    )
    flushed = client.flush(timeout=600)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    stats = client.stats()
    client.shutdown()
    arrived = warehouse.count() - 1  # less the warm-up event
    return {
        "per_call_us": per_call,
        "events_per_s": events / elapsed,
        "cpu_s": cpu,
        "lost": events - arrived,
        "flushed": flushed,
        "spilled": stats["spilled"],
    }


SINK = textwrap.dedent(
    """
    import json, sys, threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen = set()
    lock = threading.Lock()
    MAX_BODY = 8 << 20

    class Sink(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            if length > MAX_BODY:
                self.send_response(413); self.end_headers(); return
            batch = json.loads(self.rfile.read(length))["batch"]
            with lock:
                seen.update(message["messageId"] for message in batch)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def do_GET(self):
            with lock:
                body = json.dumps({"count": len(seen)}).encode()
            self.send_response(200); self.end_headers(); self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """
)


def bench_segment(events: int, max_queue_size: int | None) -> dict[str, Any]:
    from segment.analytics import Client as SegmentClient

    sink = subprocess.Popen([sys.executable, "-c", SINK], stdout=subprocess.PIPE, text=True)
    try:
        assert sink.stdout is not None
        port = int(sink.stdout.readline())
        host = f"http://127.0.0.1:{port}"
        options: dict[str, Any] = (
            {} if max_queue_size is None else {"max_queue_size": max_queue_size}
        )
        client = SegmentClient("bench-write-key", host=host, **options)
        now = datetime.now(UTC)
        client.track(
            user_id="warm-up", event="page_viewed", properties=properties(-1), timestamp=now
        )
        client.flush()
        started = time.perf_counter()
        per_call, _ = burst(
            lambda n: client.track(
                user_id=f"u{n % 1000}", event="page_viewed", properties=properties(n), timestamp=now
            ),
            events,
        )
        client.flush()
        elapsed = time.perf_counter() - started
        with urllib.request.urlopen(host, timeout=30) as response:
            arrived = json.loads(response.read())["count"] - 1  # less the warm-up event
        client.shutdown()
    finally:
        sink.terminate()
        sink.wait(10)
    return {
        "per_call_us": per_call,
        "events_per_s": arrived / elapsed,
        "lost": events - arrived,
    }


def rows_for_limit(
    events: int, props: Properties = properties, context: dict[str, Any] | None = None
) -> list[tuple[Any, ...]]:
    now = datetime.now(UTC)
    context_json = json.dumps(context or {})
    return [
        (
            uuid.uuid4(),
            "portal28",
            "page_viewed",
            f"u{n % 1000}",
            None,
            None,
            now,
            now,
            json.dumps(props(n)),
            context_json,
            "acd-analytics/bench",
        )
        for n in range(events)
    ]


COLUMNS = (
    "event_id, product, event_name, user_id, anonymous_id, session_id, occurred_at, sent_at, "
    "properties, context, library"
)


def bench_postgres_copy(
    warehouse: Warehouse,
    events: int,
    props: Properties = properties,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    target = warehouse.fresh()
    rows = rows_for_limit(events, props, context)
    with psycopg.connect(target.postgres_conninfo or "") as conn:
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(f"copy shared_events ({COLUMNS}) from stdin (format binary)") as copy,
        ):
            copy.set_types(
                [
                    "uuid",
                    "text",
                    "text",
                    "text",
                    "text",
                    "text",
                    "timestamptz",
                    "timestamptz",
                    "jsonb",
                    "jsonb",
                    "text",
                ]
            )
            for row in rows:
                copy.write_row(row)
        conn.commit()
        elapsed = time.perf_counter() - started
    return {"events_per_s": events / elapsed, "lost": events - warehouse.count()}


def bench_duckdb_arrow(
    warehouse: Warehouse,
    events: int,
    props: Properties = properties,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    import duckdb
    import pyarrow as pa

    target = warehouse.fresh()
    rows = rows_for_limit(events, props, context)
    columns = list(zip(*rows, strict=True))
    table = pa.table(
        {
            "event_id": pa.array([str(value) for value in columns[0]]),
            "product": pa.array(columns[1]),
            "event_name": pa.array(columns[2]),
            "user_id": pa.array(columns[3]),
            "occurred_at": pa.array(columns[6], pa.timestamp("us", tz="UTC")),
            "properties": pa.array(columns[8]),
            "context": pa.array(columns[9]),
        }
    )
    with duckdb.connect(target.duckdb_path or "") as conn:
        conn.register("batch", table)
        started = time.perf_counter()
        conn.execute(
            "insert into shared_events (event_id, product, event_name, user_id, occurred_at, "
            "sent_at, properties, context, library) select event_id::uuid, product, event_name, "
            "user_id, occurred_at, occurred_at, properties::json, context::json, 'bench' from batch"
        )
        elapsed = time.perf_counter() - started
    return {"events_per_s": events / elapsed, "lost": events - warehouse.count()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--backends", default="postgres,duckdb")
    parser.add_argument("--skip-segment", action="store_true")
    parser.add_argument(
        "--batch-size", type=int, default=None, help="SDK batch_size (default: its own)"
    )
    args = parser.parse_args()
    results: dict[str, Any] = {
        "events": args.events,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
    }
    with tempfile.TemporaryDirectory(prefix="acd-bench-") as tmp:
        workdir = Path(tmp)
        for backend in args.backends.split(","):
            warehouse = Warehouse(backend, workdir)
            try:
                results[f"acd-analytics → {backend}"] = bench_sdk(
                    warehouse, args.events, workdir, args.batch_size
                )
                if backend == "postgres":
                    results["limit: binary COPY → postgres"] = bench_postgres_copy(
                        warehouse, args.events
                    )
                else:
                    results["limit: Arrow insert → duckdb"] = bench_duckdb_arrow(
                        warehouse, args.events
                    )
            finally:
                warehouse.drop()
        if not args.skip_segment:
            results["segment (defaults) → local HTTP sink"] = bench_segment(args.events, None)
            results["segment (queue 200k) → local HTTP sink"] = bench_segment(args.events, 200_000)
    print(json.dumps(results, indent=2, ensure_ascii=False))
    print()
    print("| client → target | per call (median µs) | end to end (events/s) | CPU s | lost |")
    print("|---|---:|---:|---:|---:|")
    for name, row in results.items():
        if not isinstance(row, dict):
            continue
        per_call = f"{row['per_call_us']:.1f}" if "per_call_us" in row else "—"
        cpu = f"{row['cpu_s']:.2f}" if "cpu_s" in row else "—"
        print(f"| {name} | {per_call} | {row['events_per_s']:,.0f} | {cpu} | {row['lost']:,} |")


if __name__ == "__main__":
    main()
