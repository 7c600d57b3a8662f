"""CPU per request of the read API in process (issue 24): its own work, without HTTP or wrk.

    .venv/bin/python bench/api_cpu.py --keep DIR [--size 1000000] [--days 365] [--ref REV]
        [--requests 4000] [--rounds 3]

On the PostgreSQL warehouse of `bench/api_latency.py` (the same `--size`, `--days` and
`--keep DIR`, built there or here), for each of its pages and keys: 8 coroutines call an ASGI
app directly, one request after another each, with no HTTP server in between. A child process
per pass measures its own CPU (`time.process_time`: the event loop and the audit log's thread)
and that of the PostgreSQL backends of the bench database (`/proc`), per request, and reports
the rate; each pass runs `--rounds` times, in turn with the others:

- **ref**: `acd-warehouse api`'s app from `--ref` (a `git archive`, default `main`), the page
  cache off: every request runs its query;
- **tree**: the same from the working tree;
- **bare**: `bench/api_bare.py`, the page's statement and JSON and nothing else.

These figures move by about 2 % between rounds on a quiet machine, where wrk's rates move by
10-25 %: compare versions of the API's own work here, and the whole server in
`bench/api_latency.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import proc_cpu

if TYPE_CHECKING:
    import api_latency as latency

# Set: this process is a pass's child, with its settings as JSON (the key among them: not argv).
CHILD_ENV = "ACD_CPU_CHILD"
CLIENTS = 8
WARM_UP = 800

Message = dict[str, Any]
App = Callable[
    [Message, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]


# ---------------------------------------------------------------------------------------------
# the child: one pass


async def _lifespan(app: App) -> Callable[[], Awaitable[None]]:
    """Start `app` (its ASGI lifespan) and return what stops it."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})
    task = asyncio.create_task(app({"type": "lifespan", "state": {}}, inbox.get, outbox.put))
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"the app did not start: {started}")

    async def stop() -> None:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task

    return stop


async def _request(app: App, path: str, query: str, key: str) -> int:
    """One GET through the app; its status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {key}".encode())],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    status = 0

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def _pass(settings: dict[str, Any]) -> dict[str, float]:
    if settings["app"] == "bare":
        import api_bare

        app: App = api_bare.create_app()
    else:
        from api.app import create_app

        app = create_app()
    stop = await _lifespan(app)

    async def client(requests: int) -> None:
        for _ in range(requests):
            status = await _request(app, settings["path"], settings["query"], settings["key"])
            if status != 200:
                raise RuntimeError(f"{settings['app']}: GET {settings['path']} answered {status}")

    try:
        await asyncio.gather(*(client(WARM_UP // CLIENTS) for _ in range(CLIENTS)))
        owner, database = settings["owner"], settings["database"]
        database_before = {
            pid: proc_cpu.cpu_seconds(pid) for pid in proc_cpu.backends(owner, database)
        }
        cpu_before, wall_before = time.process_time(), time.perf_counter()
        each = settings["requests"] // CLIENTS
        await asyncio.gather(*(client(each) for _ in range(CLIENTS)))
        cpu, wall = time.process_time() - cpu_before, time.perf_counter() - wall_before
        database_after = {
            pid: proc_cpu.cpu_seconds(pid) for pid in proc_cpu.backends(owner, database)
        }
    finally:
        await stop()
    done = each * CLIENTS
    return {
        "client_ms": 1000 * cpu / done,
        "database_ms": 1000 * proc_cpu.cpu_spent(database_before, database_after) / done,
        "requests_per_s": done / wall,
    }


def child() -> None:
    settings = json.loads(os.environ[CHILD_ENV])
    print(json.dumps(asyncio.run(_pass(settings))))


# ---------------------------------------------------------------------------------------------
# the parent: the passes in turn


def run_pass(
    app: str,
    source: Path | None,
    prepared: latency.Prepared,
    spec: latency.PageSpec,
    key: str,
    product: str | None,
    requests: int,
    pool: int | None,
) -> dict[str, float]:
    query = urllib.parse.urlencode(spec.query)
    settings = {
        "app": app,
        "path": "/" if app == "bare" else f"/v1/marts/{spec.mart}",
        "query": query,
        "key": key,
        "requests": requests,
        "database": prepared.database,
        "owner": prepared.target.postgres_conninfo,
    }
    env = {
        **os.environ,
        **({"PYTHONPATH": str(source)} if source is not None else {}),
        CHILD_ENV: json.dumps(settings),
        "ACD_WAREHOUSE_URL": prepared.target.url,
        "ACD_API_MANIFEST": str(prepared.manifest),
        "ACD_API_RATE_LIMIT": "1000000000",
        "ACD_API_PAGE_CACHE_MB": "0",
        "ACD_BARE_URL": prepared.target.url,
        "ACD_BARE_MANIFEST": str(prepared.manifest),
        "ACD_BARE_MART": spec.mart,
        "ACD_BARE_QUERY": query,
        "ACD_BARE_PRODUCT": product or "",
        **({"ACD_API_POOL_SIZE": str(pool)} if pool else {}),
    }
    done = subprocess.run(
        [sys.executable, __file__],
        env=env,
        cwd=source,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the {app} pass failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    if CHILD_ENV in os.environ:
        child()
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="events in the warehouse")
    parser.add_argument("--days", type=int, default=365, help="days the events span")
    parser.add_argument("--keep", required=True, metavar="DIR", help="as bench/api_latency.py's")
    parser.add_argument("--ref", default="main", help="the baseline's commit (default main)")
    parser.add_argument("--requests", type=int, default=4000, help="measured requests per pass")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--pool",
        type=int,
        help="ACD_API_POOL_SIZE for every pass (default: each version's own default)",
    )
    args = parser.parse_args()
    import api_latency as latency  # after the child's return: it puts the working tree first

    from api.keys import create_read_key

    with tempfile.TemporaryDirectory(prefix="acd-bench-cpu-") as tmp:
        work = Path(tmp)
        latency.SOURCE_REF = args.ref
        baseline = latency.source_copy(work)
        prepared = latency.prepare_warehouse(
            "postgres", args.size, args.days, work, Path(args.keep).resolve()
        )
        _, analyst = create_read_key(prepared.target, "bench-cpu-analyst", None, None)
        _, scoped = create_read_key(prepared.target, "bench-cpu-product", latency.PRODUCT, None)
        pool = f"pool {args.pool}" if args.pool else "each version's pool"
        print(
            f"ms of CPU per request, median of {args.rounds} rounds of {args.requests} "
            f"(ref: {args.ref}, {pool})"
        )
        print(
            "| page | key | ref: API / PostgreSQL | tree: API / PostgreSQL | bare: app / PostgreSQL | tree req/s / ref |"
        )
        print("|---|---|---:|---:|---:|---:|")
        for spec in latency.pages(args.days):
            for label, key, product in (
                ("analyst", analyst, None),
                (latency.PRODUCT, scoped, latency.PRODUCT),
            ):
                found: dict[str, list[dict[str, float]]] = {"ref": [], "tree": [], "bare": []}
                for _ in range(args.rounds):
                    for name, app, source in (
                        ("ref", "api", baseline),
                        ("tree", "api", None),
                        ("bare", "bare", None),
                    ):
                        found[name].append(
                            run_pass(
                                app, source, prepared, spec, key, product, args.requests, args.pool
                            )
                        )
                median = {
                    name: {
                        field: statistics.median(run[field] for run in runs) for field in runs[0]
                    }
                    for name, runs in found.items()
                }
                cells = " | ".join(
                    f"{median[name]['client_ms']:.3f} / {median[name]['database_ms']:.3f}"
                    for name in ("ref", "tree", "bare")
                )
                rate = median["tree"]["requests_per_s"] / median["ref"]["requests_per_s"]
                print(f"| {spec.label} | {label} | {cells} | {rate:.2f} |", flush=True)


if __name__ == "__main__":
    main()
