"""Meta insights ingest throughput: rows/s from fake-API page to committed raw row.

Method: a fake Graph API (an in-process `httpx.MockTransport`, no network) serves ADS x DAYS
insights rows shaped like `tests/fixtures/meta/insights_page1.json`, 500 per page. The
real connector (`ingest_meta`: HTTP client, paging, validation, key parsing, set-based
upsert with restatement and cursor, one transaction per window) loads them into a fresh
migrated warehouse. Three timings per backend:

- `first load`: empty `raw_meta.ads_insights`, every row inserted;
- `re-run`: the same pull again, every row compared and left unchanged;
- `raw COPY` (the limit): the same rows, already serialized, bulk-loaded into a table of the
  same columns with no HTTP, no parsing and no upsert (DuckDB: `read_json` of an NDJSON
  file; PostgreSQL: `COPY … FROM STDIN`).

Usage: `.venv/bin/python bench/ingest_throughput.py [--ads 1000] [--days 30]`
PostgreSQL comes from `ACD_BENCH_POSTGRES_URL` (default: the local server); it is skipped
when unreachable.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from acd_analytics.warehouse_url import WarehouseTarget, parse_warehouse_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest._common.secrets import Secret
from ingest.meta import MetaConfig, ingest_meta
from warehouse_db.connection import connect
from warehouse_db.migrations import migrate
from warehouse_db.raw_load import RawWriter, dump_payload

ACCOUNT = "act_1023847561209384"
FIXTURE = (
    Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "meta" / "insights_page1.json"
)
PAGE = 500
BASE = "https://graph.bench/v21.0"


class NullClock:
    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        pass


def make_rows(ads: int, days: int, end: date) -> list[dict[str, Any]]:
    template = json.loads(FIXTURE.read_text())["data"][0]
    rows = []
    for d in range(days):
        day = (end - timedelta(days=days - 1 - d)).isoformat()
        for ad in range(ads):
            row = copy.deepcopy(template)
            row.update(
                ad_id=f"23854{ad:012d}", date_start=day, date_stop=day, spend=f"{ad % 97}.35"
            )
            rows.append(row)
    return rows


def transport(rows: list[dict[str, Any]]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        query = dict(httpx.QueryParams(request.url.query))
        if request.url.path.endswith("/ads"):
            return httpx.Response(200, json={"data": [], "paging": {"cursors": {}}})
        offset = int(query.get("after", "0"))
        page = rows[offset : offset + PAGE]
        paging: dict[str, Any] = {"cursors": {"after": str(offset + len(page))}}
        if offset + PAGE < len(rows):
            paging["next"] = f"{BASE}/{ACCOUNT}/insights?access_token=x&after={offset + PAGE}"
        return httpx.Response(200, json={"data": page, "paging": paging})

    return httpx.MockTransport(handle)


def timed_ingest(
    target: WarehouseTarget, rows: list[dict[str, Any]], days: int, end: date
) -> float:
    config = MetaConfig(
        access_token=Secret("bench-token"),
        ad_account_ids=(ACCOUNT,),
        base_url=BASE,
        initial_days=days,
        lookback_days=days,
        window_days=days,
        page_limit=PAGE,
    )
    clock = NullClock(datetime.combine(end, datetime.min.time(), UTC) + timedelta(hours=12))
    with connect(target) as conn:
        started = time.perf_counter()
        ingest_meta(config, RawWriter(conn, target.backend), clock=clock, transport=transport(rows))
        return time.perf_counter() - started


def timed_copy(target: WarehouseTarget, rows: list[dict[str, Any]]) -> float:
    """The limit: the same rows, pre-serialized, bulk-copied into a bare table."""
    ddl = (
        "create table bench_copy (ad_id text, date_start date, account_id text, payload {json}, "
        "_account_id text, _loaded_at timestamptz default current_timestamp)"
    )
    tuples = [
        (r["ad_id"], r["date_start"], r["account_id"], dump_payload(r), ACCOUNT) for r in rows
    ]
    with connect(target) as conn:
        if target.backend == "duckdb":
            conn.execute(ddl.format(json="json"))
            with tempfile.NamedTemporaryFile("w", suffix=".ndjson", delete=False) as handle:
                for t in tuples:
                    handle.write(
                        json.dumps(
                            {
                                "ad_id": t[0],
                                "date_start": t[1],
                                "account_id": t[2],
                                "payload": json.loads(t[3]),
                                "_account_id": t[4],
                            }
                        )
                        + "\n"
                    )
            started = time.perf_counter()
            conn.execute(
                "insert into bench_copy (ad_id, date_start, account_id, payload, _account_id) "
                "select ad_id, date_start, account_id, payload, _account_id "
                f"from read_json('{handle.name}', columns = {{ad_id: 'varchar', date_start: 'date', "
                "account_id: 'varchar', payload: 'json', _account_id: 'varchar'})"
            )
            elapsed = time.perf_counter() - started
            os.unlink(handle.name)
            return elapsed
        conn.execute(ddl.format(json="jsonb"))
        started = time.perf_counter()
        with (
            conn.transaction(),
            conn.cursor() as cur,
            cur.copy(
                "copy bench_copy (ad_id, date_start, account_id, payload, _account_id) from stdin"
            ) as copy_in,
        ):
            for t in tuples:
                copy_in.write_row(t)
        return time.perf_counter() - started


def duckdb_target(folder: Path) -> WarehouseTarget:
    return parse_warehouse_url(f"duckdb:///{folder / 'bench.duckdb'}")


@contextmanager
def postgres_target() -> Iterator[WarehouseTarget | None]:
    admin = parse_warehouse_url(
        os.environ.get(
            "ACD_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        )
    )
    try:
        psycopg.connect(admin.postgres_conninfo or "", connect_timeout=5).close()
    except psycopg.OperationalError:
        yield None
        return
    name = f"acd_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin.postgres_conninfo or "", autocommit=True) as conn:
        conn.execute(f"create database {name}")
    try:
        yield parse_warehouse_url(admin.url.rsplit("/", 1)[0] + f"/{name}")
    finally:
        with psycopg.connect(admin.postgres_conninfo or "", autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")


def run(
    target: WarehouseTarget, rows: list[dict[str, Any]], days: int, end: date
) -> dict[str, float]:
    migrate(target)
    first = timed_ingest(target, rows, days, end)
    again = timed_ingest(target, rows, days, end)
    with connect(target) as conn:
        loaded = conn.execute("select count(*) from raw_meta.ads_insights").fetchone()[0]
    assert loaded == len(rows), (loaded, len(rows))
    limit = timed_copy(target, rows)
    return {"first load": first, "re-run": again, "raw COPY": limit}


def main() -> None:
    import pyarrow  # noqa: F401  (imported once up front: DuckDB stages pages through Arrow)

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ads", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    end = date(2024, 5, 30)
    rows = make_rows(args.ads, args.days, end)
    print(f"Meta insights: {len(rows):,} rows ({args.ads} ads x {args.days} days), {PAGE}/page")
    print(f"{'backend':<10} {'run':<12} {'seconds':>8} {'rows/s':>10}")
    results: list[tuple[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as folder:
        results.append(("duckdb", run(duckdb_target(Path(folder)), rows, args.days, end)))
    with postgres_target() as target:
        if target is None:
            print("postgres   skipped: server unreachable")
        else:
            results.append(("postgres", run(target, rows, args.days, end)))
    for backend, timings in results:
        for name, seconds in timings.items():
            print(f"{backend:<10} {name:<12} {seconds:>8.2f} {len(rows) / seconds:>10,.0f}")


if __name__ == "__main__":
    main()
