"""Benchmark of the read API (issue 24): latency and rate of a page of a mart against the driver.

    .venv/bin/python bench/api_latency.py [--size 1000000] [--backends duckdb,postgres]
        [--days 365] [--duration 10] [--clients 8] [--keep DIR]

Needs `wrk` (Debian package `wrk`): the load comes from a separate C process on 127.0.0.1, so
the client is not the bottleneck and does not share the server's interpreter. For each
backend:

1. a warehouse of `--size` synthetic events over `--days` days, written set-based by
   `bench/dbt_scale.py`'s `insert_events` and built with the whole project's `dbt build` (of
   a `git archive` of HEAD's `dbt_project/`, so edits to the working tree cannot overlap a
   run). With `--keep DIR` the warehouse is kept (DuckDB: a file in DIR; PostgreSQL: the
   database `acd_bench_api_<size>_<days>d`) and reused by the next run with the same size and
   days, so a 10M build is done once; `bench/report_time.py --keep DIR` reads the same one;
2. `acd-warehouse api` as two child processes on 127.0.0.1 (one worker, the rate limit lifted:
   the benchmark measures the API), an analyst key and a product key (`waitlistlab`, which has the conversions of the synthetic events);
3. for each page (below), in turn: the floor, the API, the cached API.
   - **direct**: the plain statement for that page, what a product would run with SQL
     (`api.query.page_sql` without `api_form`: the same filters, order, limit, parameters and
     product condition as the API's, the columns as stored; the API's JSON pages run it
     inside a select that writes timestamps and decimals as text) through the driver
     (psycopg / duckdb) by `--clients` processes, each with its own connection, in a loop:
     execute and fetch the rows, nothing else;
   - **API**: `GET /v1/marts/{name}?…` by wrk with `--clients` connections (the key in a
     Bearer header), after a 2 s warm-up, from a server with the page cache off
     (`ACD_API_PAGE_CACHE_MB=0`: every request runs its query);
   - **cached API**: the same from a server with the default page cache. wrk repeats one
     request, so every measured request is a cache hit: key, rate, scope and audit, no query.
   - **bare** (PostgreSQL): the same request to `bench/api_bare.py` under uvicorn, a raw ASGI
     app that runs the API's statement for the page on an asyncio pool and writes its rows
     with the API's code, and nothing else (no key, audit or framework): the ceiling of an
     HTTP API on this stack, in the same run. It serves from the working tree.

Each pass reports p50 / p99 latency, requests/s and its rate as a percentage of the direct
rate, and the CPU time spent per request (Linux `/proc`): for the direct pass, its
processes' and their PostgreSQL backends'; for the API, the server's processes' and the
backends of its database (a figure that the load of other work on the machine hardly moves,
unlike the rates: on a machine that is busy anyway, compare these). The pages: a filtered page of 1,000 rows (`limit=1000`, the default) of
`fct_attribution_credits` (`model=last_touch`, a `conversion_date[gte]`) and of
`rpt_product_daily` (an `activity_date[gte]`), read with each key. `rpt_product_daily` has one
row per product and day, so a product key's page holds at most `--days` rows.

Targets (issue 24): p99 ≤ 50 ms and ≥ 70 % of the direct rate on PostgreSQL.
PostgreSQL comes from `ACD_BENCH_POSTGRES_URL` (default: the local server as postgres).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
from acd_analytics.warehouse_url import WarehouseTarget, parse_warehouse_url

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))
import dbt_scale  # noqa: E402
from api_bare import page_query  # noqa: E402
from dbt_scale import (  # noqa: E402
    admin_connection,
    admin_target,
    create_database,
    database_target,
    drop_database,
    insert_events,
)
from proc_cpu import backends, cpu_seconds, cpu_spent, process_tree  # noqa: E402
from wrk import free_port, peak_rss_mb, run_wrk  # noqa: E402

from api.keys import create_read_key  # noqa: E402
from api.query import Page, api_form_rows, json_page  # noqa: E402
from serving.keys import hash_key, placeholder  # noqa: E402
from warehouse_db.connection import connect  # noqa: E402
from warehouse_db.migrations import migrate  # noqa: E402

CLI = str(Path(sys.executable).with_name("acd-warehouse"))
FIRST_DAY = date(2025, 1, 1)  # insert_events' first day
PRODUCT = "waitlistlab"  # insert_events' purchases: this product has conversions


# ---------------------------------------------------------------------------------------------
# the warehouse


@dataclass
class Prepared:
    backend: str
    size: int
    days: int
    target: WarehouseTarget
    manifest: Path
    database: str | None  # PostgreSQL
    kept: bool
    reused: bool
    load_s: float | None = None
    build_s: float | None = None


def _database_exists(database: str) -> bool:
    with admin_connection() as conn:
        return bool(
            conn.execute("select 1 from pg_database where datname = %s", (database,)).fetchone()
        )


SOURCE_REF = "HEAD"  # --ref


def source_copy(work: Path) -> Path:
    """`SOURCE_REF` (HEAD unless --ref) of the repository extracted under `work` (once): the dbt
    project built and the API served come from it, so edits to the working tree cannot
    overlap a run."""
    source = work / "source"
    if not (source / "dbt_project" / "dbt_project.yml").exists():
        source.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", SOURCE_REF], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
    return source


def prepare_warehouse(
    backend: str, size: int, days: int, work: Path, keep: Path | None
) -> Prepared:
    """A warehouse of `size` events over `days` days, built with the whole project: reused
    from `keep` when a previous run left it there complete, else made (and recorded in `keep`).
    Progress goes to stderr."""
    home = keep if keep is not None else work
    home.mkdir(parents=True, exist_ok=True)
    name = f"{backend}-{size}-{days}d"
    record = home / f"{name}.json"
    dbt_work = home / f"dbt-{name}"
    manifest = dbt_work / "dbt_target" / "manifest.json"
    database = None
    if backend == "duckdb":
        target = parse_warehouse_url(f"duckdb:///{home / (name + '.duckdb')}")
    else:
        database = f"acd_bench_api_{size}_{days}d" if keep else f"acd_bench_{uuid.uuid4().hex[:10]}"
        target = database_target(database)
    complete = keep is not None and record.exists() and manifest.exists()
    if complete and (backend == "duckdb" or _database_exists(database or "")):
        saved = json.loads(record.read_text())
        print(f"[{backend}] reusing the warehouse of {size:,} events ({record})", file=sys.stderr)
        return Prepared(
            backend,
            size,
            days,
            target,
            manifest,
            database,
            True,
            True,
            saved.get("load_s"),
            saved.get("build_s"),
        )
    # A fresh one (whatever an unfinished earlier run left).
    record.unlink(missing_ok=True)
    if backend == "duckdb":
        for path in (Path(target.duckdb_path or ""), Path(f"{target.duckdb_path}.wal")):
            path.unlink(missing_ok=True)
    else:
        assert database is not None
        drop_database(database)
        create_database(database)
    migrate(target)
    print(f"[{backend}] inserting {size:,} events over {days} days", file=sys.stderr)
    started = time.perf_counter()
    insert_events(target, 0, size, dbt_scale.persons(size), None, days)
    if backend == "postgres":
        with connect(target) as conn:
            conn.execute("analyze shared_events")
    load_s = time.perf_counter() - started
    print(f"[{backend}] loaded in {load_s:.1f} s; dbt build (whole project)", file=sys.stderr)
    dbt_scale.PROJECT_DIR = source_copy(work) / "dbt_project"
    dbt_work.mkdir(parents=True, exist_ok=True)
    build_s = dbt_scale.dbt(target, ["build"], dbt_work)
    print(f"[{backend}] built in {build_s:.1f} s", file=sys.stderr)
    if backend == "postgres":
        with connect(target) as conn:
            conn.execute("analyze")  # what autovacuum would do after a build (it is off here)
    prepared = Prepared(
        backend, size, days, target, manifest, database, keep is not None, False, load_s, build_s
    )
    if keep is not None:
        record.write_text(
            json.dumps(
                {
                    "size": size,
                    "days": days,
                    "database": database,
                    "url": target.redacted(),
                    "load_s": load_s,
                    "build_s": build_s,
                }
            )
        )
    return prepared


def release(prepared: Prepared) -> None:
    """Drop a warehouse that is not kept (a DuckDB file goes with its temporary directory)."""
    if not prepared.kept and prepared.database is not None:
        drop_database(prepared.database)


# ---------------------------------------------------------------------------------------------
# the pages


@dataclass(frozen=True)
class PageSpec:
    label: str
    mart: str
    query: list[tuple[str, str]]


def pages(days: int) -> list[PageSpec]:
    middle = (FIRST_DAY + timedelta(days=days // 2)).isoformat()
    first = FIRST_DAY.isoformat()
    return [
        PageSpec(
            "fct_attribution_credits",
            "fct_attribution_credits",
            [("model", "last_touch"), ("conversion_date[gte]", middle), ("limit", "1000")],
        ),
        PageSpec(
            "rpt_product_daily",
            "rpt_product_daily",
            [("activity_date[gte]", first), ("limit", "1000")],
        ),
    ]


def page_statement(
    prepared: Prepared, spec: PageSpec, product: str | None, *, api_form: bool = False
) -> tuple[str, list[Any], Page]:
    """The statement, parameters and parsed page of this page and key scope. By default the
    plain statement (the rows the API reads, the columns as stored: what a product would run
    with SQL); with `api_form`, the one `ReadApi.read_mart` runs for a JSON page."""
    return page_query(
        prepared.manifest,
        spec.mart,
        spec.query,
        product,
        placeholder(prepared.target),
        prepared.backend if api_form else None,
    )


# ---------------------------------------------------------------------------------------------
# the floor: the statement through the driver, by N processes


def _direct_worker(
    url: str, statement: str, params: list[Any], ready: Any, duration: float, out: Any
) -> None:
    target = parse_warehouse_url(url)
    latencies: list[float] = []
    rows = 0
    backend = None  # the PostgreSQL backend's process, whose CPU counts too
    if target.backend == "postgres":
        conn: Any = psycopg.connect(target.postgres_conninfo or "", autocommit=True)
        backend = conn.execute("select pg_backend_pid()").fetchone()[0]

        def run() -> int:
            return len(conn.execute(statement, params).fetchall())
    else:
        import duckdb

        # The API writes its audit rows in short exclusive moments: retry past them.
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = duckdb.connect(target.duckdb_path or "", read_only=True)
                break
            except duckdb.IOException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

        def run() -> int:
            return len(conn.execute(statement, params).fetchall())

    for _ in range(3):  # warm: the plan cached (psycopg prepares from the 5th run), pages read
        rows = run()
    ready.wait()  # every process connected and warm
    cpu = time.process_time() - (cpu_seconds(backend) if backend else 0.0)
    deadline = time.perf_counter() + duration
    while True:
        began = time.perf_counter()
        run()
        ended = time.perf_counter()
        latencies.append(ended - began)
        if ended >= deadline:
            break
    cpu = time.process_time() + (cpu_seconds(backend) if backend else 0.0) - cpu
    conn.close()
    out.put((rows, latencies, cpu))


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def bench_direct(
    prepared: Prepared, statement: str, params: list[Any], clients: int, duration: float
) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    ready = context.Barrier(clients + 1)
    processes = [
        context.Process(
            target=_direct_worker,
            args=(prepared.target.url, statement, params, ready, duration, out),
        )
        for _ in range(clients)
    ]
    for process in processes:
        process.start()
    ready.wait(timeout=300)
    results = [out.get(timeout=duration + 120) for _ in processes]
    for process in processes:
        process.join()
    latencies = [latency for _, found, _ in results for latency in found]
    return {
        "rows": results[0][0],
        "requests": len(latencies),
        "cpu_ms_per_request": 1000 * sum(cpu for _, _, cpu in results) / max(len(latencies), 1),
        "requests_per_s": len(latencies) / duration,
        "p50_ms": _percentile(latencies, 0.50) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
    }


# ---------------------------------------------------------------------------------------------
# the API


class ServerProcess:
    """An HTTP server as a child process on a free port of 127.0.0.1: `command(port)`, with
    `env` added to this process's environment, its output in `workdir`."""

    def __init__(
        self,
        name: str,
        command: Callable[[int], list[str]],
        env: dict[str, str],
        workdir: Path,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (workdir / f"{name}-{self.port}.log").open("wb")
        self.proc = subprocess.Popen(
            command(self.port),
            env={**os.environ, **env},
            cwd=cwd,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while not self.alive():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()  # not left running (its workers restarting) after the run
                raise RuntimeError(f"{name} did not start; see {self.log.name}")
            time.sleep(0.2)

    def alive(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/health", timeout=5) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def get(self, path: str, key: str) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(
            self.url + path, headers={"Authorization": f"Bearer {key}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.URLError as exc:
            self.log.flush()
            tail = Path(self.log.name).read_text(errors="replace")[-3000:]
            raise RuntimeError(
                f"{self.name} (pid {self.proc.pid}, exit {self.proc.poll()}) did not answer "
                f"{path.split('?')[0]}: {exc.reason}; its log ends:\n{tail}"
            ) from None

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def api_process(
    prepared: Prepared,
    workdir: Path,
    source: Path | None,
    workers: int = 1,
    page_cache_mb: int | None = None,
) -> ServerProcess:
    """`acd-warehouse api` (from `source`, ahead of the editable install; else the working
    tree), the rate limit lifted: the benchmark measures the API."""
    env = {
        **({"PYTHONPATH": str(source)} if source is not None else {}),
        "ACD_WAREHOUSE_URL": prepared.target.url,
        "ACD_API_MANIFEST": str(prepared.manifest),
        "ACD_API_RATE_LIMIT": "1000000000",
        **({} if page_cache_mb is None else {"ACD_API_PAGE_CACHE_MB": str(page_cache_mb)}),
    }

    def command(port: int) -> list[str]:
        return [CLI, "api", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]

    return ServerProcess(f"api-{prepared.backend}", command, env, workdir, source)


def bare_process(
    prepared: Prepared, workdir: Path, spec: PageSpec, product: str | None, workers: int = 1
) -> ServerProcess:
    """`bench/api_bare.py` serving `spec`'s page (of `product`'s key; None: an analyst's)
    under uvicorn as `acd-warehouse api` runs (`serving.server.serve`)."""
    env = {
        "ACD_BARE_URL": prepared.target.url,
        "ACD_BARE_MANIFEST": str(prepared.manifest),
        "ACD_BARE_MART": spec.mart,
        "ACD_BARE_QUERY": urllib.parse.urlencode(spec.query),
        "ACD_BARE_PRODUCT": product or "",
    }

    def command(port: int) -> list[str]:
        return [
            *(sys.executable, "-m", "uvicorn", "--app-dir", str(BENCH), "--factory"),
            *("api_bare:create_app", "--host", "127.0.0.1", "--port", str(port)),
            *("--workers", str(workers), "--no-access-log", "--no-server-header"),
            *("--no-proxy-headers", "--log-level", "warning"),
        ]

    return ServerProcess("bare", command, env, workdir)


def wrk_get_script(path: str, key: str) -> str:
    return f"""
wrk.method = "GET"
wrk.path = "{path}"
wrk.headers["Authorization"] = "Bearer {key}"
"""


def _backends(database: str | None) -> list[int]:
    """The PostgreSQL backends connected to `database` (the API's, during its pass)."""
    return backends(admin_target().postgres_conninfo or "", database)


def bench_api(
    server: ServerProcess,
    workdir: Path,
    path: str,
    key: str,
    clients: int,
    duration: int,
    database: str | None = None,
) -> dict[str, Any]:
    status, body = server.get(path, key)
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}")
    script = workdir / f"wrk-{uuid.uuid4().hex[:8]}.lua"
    script.write_text(wrk_get_script(path, key))
    run_wrk(server.url, script, clients, 2)  # warm-up

    def snapshot() -> dict[int, float]:
        pids = process_tree(server.proc.pid) + _backends(database)
        return {pid: cpu_seconds(pid) for pid in pids}

    before = snapshot()
    result = run_wrk(server.url, script, clients, duration)
    spent = cpu_spent(before, snapshot())
    result["cpu_ms_per_request"] = 1000 * spent / max(result["requests"], 1)
    result["rows"] = len(body["data"])
    result["bytes"] = len(json.dumps(body))
    return result


def bench_bare(
    prepared: Prepared, workdir: Path, spec: PageSpec, product: str | None, args: argparse.Namespace
) -> dict[str, Any]:
    """The bare pass: `bench_api` against a bare app serving this page (PostgreSQL)."""
    server = bare_process(prepared, workdir, spec, product, args.workers)
    try:
        return bench_api(server, workdir, "/", "", args.clients, args.duration, prepared.database)
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------
# where an API request's time goes (--breakdown)

STAGES = ("session", "key and build", "page query", "rows to JSON", "encode", "serve")


def breakdown(
    prepared: Prepared, spec: PageSpec, key: str, product: str | None, requests: int
) -> dict[str, float]:
    """Median milliseconds of each step of `ReadApi.serve` for this page, one request at a time
    in this process (the working tree's `api/`), then of the whole `serve` call. The steps
    include the key's lookup, which `serve` runs only for a key's first read (`KnownKeys`)."""
    from api.app import ReadApi
    from api.keys import lookup_sql
    from api.settings import ApiSettings

    # The page cache off: every serve runs its query, as the steps timed beside it do.
    settings = ApiSettings(rate_limit=1e9, page_cache_bytes=0)
    api = ReadApi(prepared.target, settings, manifest=prepared.manifest)
    statement, params, page = page_statement(prepared, spec, product, api_form=True)
    page_rows = api_form_rows(page)
    items = list(spec.query)
    times: dict[str, list[float]] = {stage: [] for stage in STAGES}

    async def measure() -> None:
        assert api.reader is not None
        for number in range(requests + 3):
            marks = [time.perf_counter()]
            async with api.reader.session() as session:
                marks.append(time.perf_counter())
                await session.rows(lookup_sql(prepared.target), [spec.mart, hash_key(key)])
                marks.append(time.perf_counter())
                raw = await session.rows(statement, params)
                marks.append(time.perf_counter())
                rows = page_rows(raw[:1000])
                marks.append(time.perf_counter())
                json_page(rows, None, None)
                marks.append(time.perf_counter())
            began = time.perf_counter()
            outcome = await api.serve(
                key,
                lambda s, k, b, g: api.read_mart(s, k, b, g, spec.mart, items, None),
                spec.mart,
            )
            assert outcome.response.status_code == 200, outcome.response.status_code
            if number >= 3:  # the first ones warm the plan cache
                for stage, start, end in zip(STAGES, marks, marks[1:], strict=False):
                    times[stage].append(end - start)
                times["serve"].append(time.perf_counter() - began)

    async def run() -> None:
        await api.start()
        try:
            await measure()
        finally:
            await api.stop()

    asyncio.run(run())
    return {stage: 1000 * sorted(found)[len(found) // 2] for stage, found in times.items()}


# ---------------------------------------------------------------------------------------------


def run_backend(
    backend: str, args: argparse.Namespace, workdir: Path, keep: Path | None
) -> list[dict[str, Any]]:
    prepared = prepare_warehouse(backend, args.size, args.days, workdir, keep)
    rows: list[dict[str, Any]] = []
    try:
        _, analyst = create_read_key(prepared.target, "bench-analyst", None, None)
        _, product = create_read_key(prepared.target, f"bench-{PRODUCT}", PRODUCT, None)
        source = None if args.worktree else source_copy(workdir)
        # Every request a query (the page cache off), and the server as it runs by default,
        # where wrk's repeated request is answered from the page cache.
        api = api_process(prepared, workdir, source, args.workers, page_cache_mb=0)
        cached_api = api_process(prepared, workdir, source, args.workers)
        try:
            for spec in pages(args.days):
                for scope, key, key_product in (
                    ("analyst", analyst, None),
                    (PRODUCT, product, PRODUCT),
                ):
                    statement, params, _ = page_statement(prepared, spec, key_product)
                    direct = bench_direct(prepared, statement, params, args.clients, args.duration)
                    time.sleep(1)
                    query = "&".join(f"{k}={v}" for k, v in spec.query)
                    served, cached = (
                        bench_api(
                            server,
                            workdir,
                            f"/v1/marts/{spec.mart}?{query}",
                            key,
                            args.clients,
                            args.duration,
                            prepared.database,
                        )
                        for server in (api, cached_api)
                    )
                    bare = (
                        bench_bare(prepared, workdir, spec, key_product, args)
                        if backend == "postgres"
                        else None
                    )
                    row = {
                        "backend": backend,
                        "workers": args.workers,
                        "api_source": "working tree" if args.worktree else SOURCE_REF,
                        "events": args.size,
                        "page": spec.label,
                        "key": scope,
                        "query": query,
                        "direct": direct,
                        "api": served,
                        "api_vs_direct": served["requests_per_s"] / direct["requests_per_s"],
                        "bare": bare,
                        "bare_vs_direct": bare["requests_per_s"] / direct["requests_per_s"]
                        if bare
                        else None,
                        "api_cached": cached,
                        "cached_vs_direct": cached["requests_per_s"] / direct["requests_per_s"],
                    }
                    rows.append(row)
                    print(_line(row), flush=True)
                    time.sleep(1)
            rss = max(peak_rss_mb(server.proc.pid) for server in (api, cached_api))
            for row in rows:
                row["api_peak_rss_mb"] = rss
        finally:
            api.stop()
            cached_api.stop()
        if args.breakdown:
            print(f"\n{backend}: ms per request step, median of {args.breakdown}, in process")
            print("| page | key | " + " | ".join(STAGES) + " |")
            print("|---|---|" + "---:|" * len(STAGES))
            for row in rows:
                spec = next(p for p in pages(args.days) if p.label == row["page"])
                scoped = None if row["key"] == "analyst" else PRODUCT
                found = breakdown(
                    prepared, spec, product if scoped else analyst, scoped, args.breakdown
                )
                row["breakdown_ms"] = found
                cells = " | ".join(f"{found[stage]:.1f}" for stage in STAGES)
                print(f"| {row['page']} | {row['key']} | {cells} |", flush=True)
    finally:
        release(prepared)
    for row in rows:
        row["load_s"], row["build_s"], row["reused"] = (
            prepared.load_s,
            prepared.build_s,
            prepared.reused,
        )
    return rows


HEADER = (
    "| backend | events | page | key | rows | direct p50 / p99 ms | direct req/s"
    " | API p50 / p99 ms | API req/s | API / direct | CPU ms per request, direct / API"
    " | cached API p50 / p99 ms | cached req/s | cached / direct | bare req/s, / direct"
    " | non-2xx |\n"
    "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def _line(row: dict[str, Any]) -> str:
    d, a, c = row["direct"], row["api"], row["api_cached"]
    b = row["bare"]
    bare = f"{b['requests_per_s']:,.0f}, {100 * row['bare_vs_direct']:.0f} %" if b else "—"
    return (
        f"| {row['backend']} | {row['events']:,} | {row['page']} | {row['key']} | {a['rows']:,}"
        f" | {d['p50_ms']:.1f} / {d['p99_ms']:.1f} | {d['requests_per_s']:,.0f}"
        f" | {a['p50_ms']:.1f} / {a['p99_ms']:.1f} | {a['requests_per_s']:,.0f}"
        f" | {100 * row['api_vs_direct']:.0f} %"
        f" | {d['cpu_ms_per_request']:.1f} / {a['cpu_ms_per_request']:.1f}"
        f" | {c['p50_ms']:.1f} / {c['p99_ms']:.1f} | {c['requests_per_s']:,.0f}"
        f" | {100 * row['cached_vs_direct']:.0f} % | {bare} | {a['non_200'] + c['non_200'] + (b['non_200'] if b else 0)} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="events in the warehouse")
    parser.add_argument("--days", type=int, default=365, help="days the events span")
    parser.add_argument("--backends", default="duckdb,postgres")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured pass")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="keep the warehouses (DuckDB files and records in DIR, PostgreSQL databases "
        "acd_bench_api_<size>_<days>d) and reuse them on the next run",
    )
    parser.add_argument(
        "--breakdown",
        type=int,
        default=0,
        metavar="N",
        help="then time each step of N requests per page in this process (the working tree's api/)",
    )
    parser.add_argument(
        "--build-only", action="store_true", help="build (or find) the kept warehouses, no load"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="`acd-warehouse api --workers` (default 1)"
    )
    parser.add_argument(
        "--worktree",
        action="store_true",
        help="serve the API from the working tree (default: from HEAD, like the dbt build)",
    )
    parser.add_argument(
        "--ref",
        default="HEAD",
        help="the commit the dbt build and (without --worktree) the API come from, e.g. main "
        "for a baseline (default HEAD)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    global SOURCE_REF
    SOURCE_REF = args.ref
    keep = Path(args.keep).resolve() if args.keep else None
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    print(HEADER, flush=True)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="acd-bench-api-") as tmp:
        for backend in args.backends.split(","):
            if args.build_only:
                if keep is None:
                    sys.exit("--build-only needs --keep DIR")
                prepare_warehouse(backend, args.size, args.days, Path(tmp), keep)
                continue
            results += run_backend(backend, args, Path(tmp), keep)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for backend in dict.fromkeys(row["backend"] for row in results):
        first = next(row for row in results if row["backend"] == backend)
        how = "reused" if first["reused"] else "built"
        print(
            f"{backend}: warehouse {how} (load {first['load_s'] or 0:.1f} s, dbt build "
            f"{first['build_s'] or 0:.1f} s); API peak RSS {first['api_peak_rss_mb']:.0f} MB"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
