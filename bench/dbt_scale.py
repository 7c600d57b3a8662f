"""Benchmark of the dbt build (issue 6): full build versus an incremental run after one more day.

    .venv/bin/python bench/dbt_scale.py [--sizes 100000,1000000,10000000] [--backends duckdb,postgres]
        [--days 30]

For each warehouse and size N, in a fresh warehouse:

1. N synthetic events over `--days` days (default 30) are written into `shared_events` with
   one set-based INSERT (the shape of the sample world: ad visits from Meta and TikTok with
   campaign context, anonymous ids claimed at signup, waitlists, purchases, page views — 20
   events per person over the three days after their arrival, see `insert_events`);
2. `dbt build` (models, seeds, data tests and unit tests) of the core models — identity,
   events, funnels, attribution and their staging (`--select ''` for the whole project, which is
   what `acd-warehouse build` runs) — the full build;
3. one more day of events (N / days, mostly from new persons, 10 % from returning ones) is
   written, received later;
4. `dbt build` again — the incremental models (`int_anonymous_ids_claimed`, `fct_events` and
   those downstream of it: `int_person_event_stats`, `int_person_products`,
   `int_product_days_counted`, the funnels, `fct_attribution_credits`,
   `fct_channel_credits_daily`) merge only what changed and the tests of the incremental marts
   check the rows that run wrote; the other models are tables rebuilt from their inputs;
5. after another day, `dbt run --select +fct_events` with that day as the partition window
   (`--vars events_received_from/until`), which is what Dagster's partitioned dbt assets run
   each hour: the incremental model's own cost.

Baseline: the full build at the same size. PostgreSQL comes from `ACD_BENCH_POSTGRES_URL`
(default: the local server as postgres); each size gets its own database, dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from acd_analytics.warehouse_url import WarehouseTarget, parse_warehouse_url
from psycopg import sql

from warehouse_db.connection import connect
from warehouse_db.dbt_env import DBT_PROJECT_DIR, run_dbt_subprocess
from warehouse_db.migrations import migrate

DAYS = 30  # the history's days unless --days says otherwise
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def insert_events(
    target: WarehouseTarget,
    first: int,
    count: int,
    persons: int,
    day: int | None,
    days: int = DAYS,
) -> None:
    """Events `first` … `first + count - 1`: the history (`day` None) or one more day.

    Persons have a lifetime, as in the sample world and in a real product: the history gives
    each of `persons` persons 20 events, one of each kind (ad visit, newsletter visit, signup
    claiming their anonymous id, purchase, waitlist, page views), over three days from their
    arrival day, spread over `days` days. Day `day` (days, days + 1, …) is mostly new persons
    (count / 20 of them, the same life), and 10 % of its events come from returning persons of
    the history. Rows are written in arrival order, as the SDK writes them (until session 8 the
    history was written in id order, which scattered each day over the whole table)."""
    json_type = "jsonb" if target.backend == "postgres" else "json"

    def div(numerator: str, denominator: int) -> str:  # integer division on both backends
        return f"cast(floor(cast({numerator} as double precision) / {denominator}) as bigint)"

    j = f"(i - {first})"
    if day is None:
        person = f"({j} % {persons})"
        kind = f"({div(j, persons)} % 20)"
        day_expr = f"(({person} * 7919) % {days - 2} + {div(f'{kind} * 3', 20)})"
    else:
        newcomers = max(count // 20, 1)
        person = (
            f"(case when {j} % 100 < 10 then ({j} * 7919) % {persons}"
            f" else {persons + (day - days) * newcomers} + {j} % {newcomers} end)"
        )
        kind = f"({div(j, newcomers)} % 20)"
        day_expr = f"{day}"
    statement = f"""
        insert into shared_events (
            event_id, product, event_name, user_id, anonymous_id, occurred_at, received_at,
            properties, context, library
        )
        select
            cast(md5(cast(i as varchar)) as uuid),
            case {kind} % 4 when 0 then 'portal28' when 1 then 'content-factory' when 2 then 'pct' else 'waitlistlab' end,
            case
                when {kind} in (0, 1) then 'page_viewed'
                when {kind} = 2 then 'signup_completed'
                when {kind} = 3 then 'purchase_completed'
                when {kind} = 4 then 'waitlist_joined'
                else 'page_viewed'
            end,
            case when {kind} in (0, 1, 4) then null else 'u' || cast({person} as varchar) end,
            case when {kind} in (0, 1, 2, 4) then 'a' || cast({person} as varchar) end,
            occurred_at,
            occurred_at + interval '5 minutes',
            cast(case
                when {kind} = 3 then '{{"revenue": 29, "currency": "USD"}}'
                when {kind} = 2 then '{{"method": "email"}}'
                when {kind} = 4 then '{{"waitlist_id": "w1"}}'
                else '{{}}'
            end as {json_type}),
            cast(case
                when {kind} = 0 and {person} % 2 = 0
                    then '{{"campaign": {{"source": "facebook", "name": "c' || cast(i % 40 as varchar)
                        || '", "content": "ad' || cast(i % 400 as varchar) || '", "fbclid": "f"}}}}'
                when {kind} = 0
                    then '{{"page": {{"url": "https://x.io/?utm_source=tiktok&utm_campaign=t'
                        || cast(i % 40 as varchar) || '&utm_content=tad' || cast(i % 400 as varchar)
                        || '&ttclid=t"}}}}'
                when {kind} = 1 then '{{"campaign": {{"source": "newsletter", "medium": "email"}}}}'
                else '{{}}'
            end as {json_type}),
            'acd-analytics/bench'
        from (
            select
                i,
                timestamp with time zone '2025-01-01 00:00:00+00'
                    + {day_expr} * interval '1 day'
                    + (i % 86000) * interval '1 second' as occurred_at
            from generate_series(cast({first} as bigint), cast({first + count - 1} as bigint)) as series(i)
        ) as numbered
        -- In arrival order, as a live shared_events is written: the late-arrival window's rows
        -- sit together at the table's end instead of on every page.
        order by occurred_at, i
    """
    with connect(target) as conn:
        conn.execute(statement)


def window_vars(day: int) -> str:
    """The partition window of one received day of `insert_events`, as dbt `--vars`."""
    start = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=day)
    return json.dumps(
        {
            "events_received_from": start.isoformat(),
            "events_received_until": (start + timedelta(days=1)).isoformat(),
        }
    )


PROJECT_DIR = DBT_PROJECT_DIR
SHOW_SLOWEST = 0  # --slowest: how many of each dbt run's slowest nodes to print (to stderr)


def dbt(target: WarehouseTarget, args: list[str], work: Path) -> float:
    started = time.perf_counter()
    proc = run_dbt_subprocess(target, args, work, PROJECT_DIR)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"dbt {' '.join(args)} failed:\n{proc.stdout[-4000:]}")
    if SHOW_SLOWEST:
        print(f"  slowest nodes of `dbt {' '.join(args)}` ({elapsed:.1f} s):", file=sys.stderr)
        for seconds, node in slowest_nodes(work / "dbt_target" / "run_results.json", SHOW_SLOWEST):
            print(f"    {seconds:6.2f} s  {node}", file=sys.stderr)
    return elapsed


def slowest_nodes(run_results: Path, count: int) -> list[tuple[float, str]]:
    """The `count` nodes of a dbt run that took longest, from its run_results.json."""
    results = json.loads(run_results.read_text())["results"]
    timed = [(float(r["execution_time"]), str(r["unique_id"])) for r in results]
    return sorted(timed, reverse=True)[:count]


def run_size(
    backend: str, size: int, work: Path, selection: list[str], days: int = DAYS
) -> dict[str, float]:
    database = None
    admin = parse_warehouse_url(os.environ.get("ACD_BENCH_POSTGRES_URL", DEFAULT_POSTGRES))
    if backend == "duckdb":
        target = parse_warehouse_url(f"duckdb:///{work / 'bench.duckdb'}")
    else:
        database = f"acd_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(admin.postgres_conninfo or "", autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
        target = parse_warehouse_url(admin.url.rsplit("/", 1)[0] + f"/{database}")
    try:
        migrate(target)
        persons = max(size // 20, 1)
        started = time.perf_counter()
        insert_events(target, 0, size, persons, None, days)
        if backend == "postgres":
            # What autovacuum does after a bulk load on a live server (it is off on this one):
            # without statistics the planner cannot see that a day's events sit together.
            with connect(target) as conn:
                conn.execute("analyze shared_events")
        load = time.perf_counter() - started
        full = dbt(target, ["build", *selection], work)
        daily = max(size // days, 1)
        insert_events(target, size, daily, persons, days, days)
        incremental_build = dbt(target, ["build", *selection], work)
        insert_events(target, size + daily, daily, persons, days + 1, days)
        incremental_fct_events = dbt(
            target, ["run", "--select", "+fct_events", "--vars", window_vars(days + 1)], work
        )
        return {
            "new_day_events": daily,
            "load_s": load,
            "full_build_s": full,
            "incremental_build_s": incremental_build,
            "incremental_fct_events_s": incremental_fct_events,
        }
    finally:
        if database is not None:
            with psycopg.connect(admin.postgres_conninfo or "", autocommit=True) as conn:
                conn.execute(
                    sql.SQL("drop database if exists {} with (force)").format(
                        sql.Identifier(database)
                    )
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--backends", default="duckdb,postgres")
    parser.add_argument(
        "--select",
        default="+core +marts.funnels +marts.attribution",
        help="dbt selection ('' for the whole project, i.e. exactly `acd-warehouse build`)",
    )
    parser.add_argument(
        "--project-dir",
        default=str(DBT_PROJECT_DIR),
        help="dbt project to run (a copy, so that edits to the working tree cannot overlap a run)",
    )
    parser.add_argument(
        "--days",
        type=int,
        default=DAYS,
        help="days of history the events are spread over (one more day is then added)",
    )
    parser.add_argument(
        "--slowest", type=int, default=0, help="print each dbt run's N slowest nodes to stderr"
    )
    args = parser.parse_args()
    global PROJECT_DIR, SHOW_SLOWEST
    PROJECT_DIR = Path(args.project_dir)
    SHOW_SLOWEST = args.slowest
    selection = ["--select", *args.select.split()] if args.select else []
    print(
        "| backend | events | history (days) | new day (events) | load (s) | full build (s)"
        " | incremental build (s) | incremental / full | fct_events partition run (s) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for backend in args.backends.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            with tempfile.TemporaryDirectory(prefix="acd-dbt-bench-") as tmp:
                result = run_size(backend, size, Path(tmp), selection, args.days)
            full, incremental = result["full_build_s"], result["incremental_build_s"]
            print(
                f"| {backend} | {size:,} | {args.days} | {result['new_day_events']:,.0f} |"
                f" {result['load_s']:.1f} | {full:.1f} | {incremental:.1f} |"
                f" {100 * incremental / full:.0f} % | {result['incremental_fct_events_s']:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
