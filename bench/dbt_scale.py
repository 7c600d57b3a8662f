"""Benchmark of the dbt build (issue 6): full build versus an incremental run after one more day.

    .venv/bin/python bench/dbt_scale.py [--sizes 100000,1000000,10000000] [--backends duckdb,postgres]
        [--days 30]

For each warehouse and size N, in a fresh warehouse:

1. N synthetic events over `--days` days (default 30) are written into `shared_events` with
   one set-based INSERT (the shape of the sample world: ad visits from Meta and TikTok with
   campaign context, anonymous ids claimed at signup, waitlists, purchases, page views — 20
   events per person over the three days after their arrival, see `insert_events`);
2. `dbt build` as production runs it (`dbt_build_args`: models, seeds and data tests; the
   unit tests run in `make test`) of the core models — identity, events, funnels,
   attribution and their staging (`--select ''` for the whole project, which is
   what `acd-warehouse build` runs) — the full build;
3. one more day of events (N / days, mostly from new persons, 10 % from returning ones) is
   written, received later;
4. `dbt build` again — the incremental models (`int_anonymous_ids_claimed`, `fct_events` and
   those downstream of it: `int_person_event_stats`, `int_person_products`,
   `int_product_days_counted`, the funnels, `fct_attribution_credits`,
   `fct_channel_credits_daily`) merge only what changed and the tests of the incremental marts
   check the rows that run wrote; the other models are tables rebuilt from their inputs;
   with `--repeat R`, R times, each on a copy of the warehouse as step 3 left it (the
   projects in turn), and the median reported;
5. after another day, `dbt run --select +fct_events` with that day as the partition window
   (`--vars events_received_from/until`), which is what Dagster's partitioned dbt assets run
   each hour: the incremental model's own cost;
6. with `--per-model`, `dbt run --full-refresh` of today's incremental models (MODELS): each
   model's rebuild, against its own time in the incremental build of step 4 (dbt's per-node
   `execution_time` in run_results.json).

Baseline: the full build at the same size. With `--baseline-project-dir`, steps 2-6 also run
with that project (e.g. main's `dbt_project`), first, on a copy of the same loaded warehouse
(DuckDB: a copy of the file; PostgreSQL: `create database … template …`), so both projects
meet the same rows in one run. PostgreSQL comes from `ACD_BENCH_POSTGRES_URL` (default: the
local server as postgres); each size gets its own databases, dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from acd_analytics.warehouse_url import WarehouseTarget, parse_warehouse_url
from psycopg import sql

from warehouse_db.connection import connect
from warehouse_db.dbt_env import DBT_PROJECT_DIR, dbt_build_args, run_dbt_subprocess
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
# The incremental models of the project before issue 23 item 2, compared one by one with their
# rebuild (--per-model).
MODELS = (
    "int_anonymous_ids_claimed",
    "fct_events",
    "int_person_event_stats",
    "int_person_products",
    "int_conversions_valued",
    "int_funnel_events_matched",
    "int_product_days_counted",
    "fct_attribution_credits",
    "fct_channel_credits_daily",
    "fct_ad_conversions_daily",
    "fct_funnel_steps",
)


def dbt(target: WarehouseTarget, args: list[str], work: Path, project: Path | None = None) -> float:
    started = time.perf_counter()
    proc = run_dbt_subprocess(target, args, work, project or PROJECT_DIR)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"dbt {' '.join(args)} failed:\n{proc.stdout[-4000:]}")
    if SHOW_SLOWEST:
        print(f"  slowest nodes of `dbt {' '.join(args)}` ({elapsed:.1f} s):", file=sys.stderr)
        for seconds, node in slowest_nodes(work / "dbt_target" / "run_results.json", SHOW_SLOWEST):
            print(f"    {seconds:6.2f} s  {node}", file=sys.stderr)
    return elapsed


def node_times(work: Path) -> dict[str, float]:
    """Each node's execution time (s) in the latest dbt run under `work`, by unique_id."""
    results = json.loads((work / "dbt_target" / "run_results.json").read_text())["results"]
    return {str(r["unique_id"]): float(r["execution_time"]) for r in results}


def slowest_nodes(run_results: Path, count: int) -> list[tuple[float, str]]:
    """The `count` nodes of a dbt run that took longest, from its run_results.json."""
    results = json.loads(run_results.read_text())["results"]
    timed = [(float(r["execution_time"]), str(r["unique_id"])) for r in results]
    return sorted(timed, reverse=True)[:count]


def admin_target() -> WarehouseTarget:
    return parse_warehouse_url(os.environ.get("ACD_BENCH_POSTGRES_URL", DEFAULT_POSTGRES))


def admin_connection() -> psycopg.Connection[Any]:
    """An autocommit connection to the benchmarks' PostgreSQL server, to create and drop
    databases."""
    return psycopg.connect(admin_target().postgres_conninfo or "", autocommit=True)


def database_target(database: str) -> WarehouseTarget:
    """`database` on the benchmarks' PostgreSQL server."""
    return parse_warehouse_url(admin_target().url.rsplit("/", 1)[0] + f"/{database}")


def create_database(database: str, template: str | None = None) -> WarehouseTarget:
    """A new PostgreSQL database named `database` (a copy of `template` if given)."""
    statement = sql.SQL("create database {}").format(sql.Identifier(database))
    if template:
        statement += sql.SQL(" template {}").format(sql.Identifier(template))
    with admin_connection() as conn:
        conn.execute(statement)
    return database_target(database)


def new_database(template: str | None = None) -> WarehouseTarget:
    """A new PostgreSQL database of a fresh name (a copy of `template` if given)."""
    return create_database(f"acd_bench_{uuid.uuid4().hex[:10]}", template)


def drop_database(database: str) -> None:
    """Drop a benchmark database and the roles made for it (named `<database>_…`: the read
    API's)."""
    with admin_connection() as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(database))
        )
        for (role,) in conn.execute(
            "select rolname from pg_roles where rolname like %s", (database + "\\_%",)
        ).fetchall():
            conn.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


def persons(size: int) -> int:
    """The persons the `size` events of the history belong to (20 events each)."""
    return max(size // 20, 1)


def load(backend: str, size: int, work: Path, days: int) -> tuple[WarehouseTarget, float]:
    """A new warehouse holding the history of `size` events; the seconds the load took."""
    if backend == "duckdb":
        target = parse_warehouse_url(f"duckdb:///{work / 'loaded.duckdb'}")
    else:
        target = new_database()
    migrate(target)
    started = time.perf_counter()
    insert_events(target, 0, size, persons(size), None, days)
    if backend == "postgres":
        # What autovacuum does after a bulk load on a live server (it is off on this one):
        # without statistics the planner cannot see that a day's events sit together.
        with connect(target) as conn:
            conn.execute("analyze shared_events")
    return target, time.perf_counter() - started


def copy_of(loaded: WarehouseTarget, work: Path, name: str) -> WarehouseTarget:
    """A copy of the loaded warehouse, for one project's runs."""
    if loaded.backend == "duckdb":
        path = work / f"{name}.duckdb"
        shutil.copyfile(str(loaded.duckdb_path), path)
        return parse_warehouse_url(f"duckdb:///{path}")
    return new_database(template=loaded.database)


@dataclass
class ProjectRun:
    """One project's runs on its copy of the loaded warehouse (seconds)."""

    target: WarehouseTarget  # the copy: its full build and the new day, then the runs below
    new_day_events: int
    full_build: float
    # Filled in by incremental_build and finish_project:
    # one per --repeat, each on a copy of the same state
    incremental_builds: list[float] = field(default_factory=list)
    partition_run: float = 0.0
    # per node of the last incremental build
    incremental_nodes: dict[str, float] = field(default_factory=dict)
    # per node of the --full-refresh of MODELS (--per-model)
    rebuild_nodes: dict[str, float] = field(default_factory=dict)

    @property
    def incremental_build(self) -> float:
        """The median incremental build."""
        return statistics.median(self.incremental_builds)

    def incremental_cell(self) -> str:
        """The median incremental build, with the range when it ran more than once."""
        runs = self.incremental_builds
        spread = f" ({min(runs):.1f} to {max(runs):.1f}, {len(runs)} runs)" if len(runs) > 1 else ""
        return f"{self.incremental_build:.1f}{spread}"

    def model(self, nodes: dict[str, float], name: str) -> float | None:
        return nodes.get(next((uid for uid in nodes if uid.split(".")[::2] == ["model", name]), ""))

    def this_run_models(self) -> float:
        """The incremental build's time in the run's change models (docs/INCREMENTAL.md)."""
        return sum(
            seconds
            for uid, seconds in self.incremental_nodes.items()
            if uid.startswith("model.")
            and (
                uid.endswith("_this_run")
                or uid.endswith((".int_run_limits", ".int_incremental_manifest"))
            )
        )


def prepare_project(
    target: WarehouseTarget, project: Path, work: Path, selection: list[str], size: int, days: int
) -> ProjectRun:
    """Steps 2 and 3 of the module's docstring with `project` on `target` (the loaded history)."""
    work.mkdir(parents=True, exist_ok=True)
    full = dbt(target, dbt_build_args(selection), work, project)
    daily = max(size // days, 1)
    insert_events(target, size, daily, persons(size), days, days)
    return ProjectRun(target, daily, full)


def incremental_build(
    run: ProjectRun, project: Path, work: Path, selection: list[str], last: bool
) -> None:
    """Step 4: the incremental build on a copy of the prepared warehouse, or on the warehouse
    itself for the `last` run (steps 5 and 6 go on from there)."""
    target = run.target if last else copy_of(run.target, work.parent, f"{work.name}-repeat")
    try:
        run.incremental_builds.append(dbt(target, dbt_build_args(selection), work, project))
        run.incremental_nodes = node_times(work)
    finally:
        if not last:
            remove(target)


def finish_project(
    run: ProjectRun, project: Path, work: Path, size: int, days: int, per_model: bool
) -> None:
    """Steps 5 and 6 of the module's docstring, after the incremental builds."""
    target = run.target
    insert_events(
        target, size + run.new_day_events, run.new_day_events, persons(size), days + 1, days
    )
    run.partition_run = dbt(
        target, ["run", "--select", "+fct_events", "--vars", window_vars(days + 1)], work, project
    )
    if per_model:
        # With the views they read: on PostgreSQL, rebuilding fct_events drops its dependent
        # views (cascade), and fct_attribution_credits' full refresh reads one of them.
        selected = [*MODELS, "int_touchpoints_matched"]
        dbt(target, ["run", "--full-refresh", "--select", *selected], work, project)
        run.rebuild_nodes = node_times(work)


def remove(target: WarehouseTarget) -> None:
    """Drop a benchmark's database (PostgreSQL) or delete its file (DuckDB)."""
    if target.backend == "postgres":
        drop_database(target.database or "")
    else:
        Path(str(target.duckdb_path)).unlink(missing_ok=True)


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
        "--baseline-project-dir",
        help="a second dbt project (e.g. main's), run first on a copy of the same loaded warehouse",
    )
    parser.add_argument(
        "--per-model",
        action="store_true",
        help="also rebuild MODELS (--full-refresh) and compare each with its incremental run",
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
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="incremental builds per project, each on a copy of the same state (the median is reported)",
    )
    args = parser.parse_args()
    global PROJECT_DIR, SHOW_SLOWEST
    PROJECT_DIR = Path(args.project_dir)
    SHOW_SLOWEST = args.slowest
    selection = ["--select", *args.select.split()] if args.select else []
    projects = {"project": PROJECT_DIR}
    if args.baseline_project_dir:
        projects = {"baseline": Path(args.baseline_project_dir), **projects}
    print(
        "| backend | events | project | history (days) | new day (events) | load (s)"
        " | full build (s) | incremental build (s) | incremental / full"
        " | fct_events partition run (s) |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    runs: list[tuple[str, int, str, ProjectRun]] = []
    for backend in args.backends.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            with tempfile.TemporaryDirectory(prefix="acd-dbt-bench-") as tmp:
                loaded, load_s = load(backend, size, Path(tmp), args.days)
                prepared: dict[str, ProjectRun] = {}
                try:
                    for label, project in projects.items():
                        print(f"  {backend} {size:,}: {label} ({project})", file=sys.stderr)
                        prepared[label] = prepare_project(
                            copy_of(loaded, Path(tmp), label),
                            project,
                            Path(tmp) / label,
                            selection,
                            size,
                            args.days,
                        )
                    # The projects' incremental builds in turn, so that both meet the same
                    # moments of a machine whose speed drifts.
                    for repeat in range(args.repeat):
                        for label, project in projects.items():
                            last = repeat == args.repeat - 1
                            print(f"  {backend} {size:,}: {label} incremental", file=sys.stderr)
                            incremental_build(
                                prepared[label], project, Path(tmp) / label, selection, last
                            )
                    for label, project in projects.items():
                        run = prepared[label]
                        finish_project(
                            run, project, Path(tmp) / label, size, args.days, args.per_model
                        )
                        runs.append((backend, size, label, run))
                        print(
                            f"| {backend} | {size:,} | {label} | {args.days} |"
                            f" {run.new_day_events:,} | {load_s:.1f} | {run.full_build:.1f} |"
                            f" {run.incremental_cell()} |"
                            f" {100 * run.incremental_build / run.full_build:.0f} % |"
                            f" {run.partition_run:.1f} |",
                            flush=True,
                        )
                finally:
                    for run in prepared.values():
                        remove(run.target)
                    if backend == "postgres":
                        drop_database(loaded.database or "")
    if args.per_model:
        print_per_model(runs)


def print_per_model(runs: list[tuple[str, int, str, ProjectRun]]) -> None:
    """Each of MODELS: its time in the incremental build against its rebuild."""
    print(
        "\n| backend | events | project | model | in the incremental build (s) | rebuilt (s)"
        " | incremental / rebuild |"
    )
    print("|---|---:|---|---|---:|---:|---:|")
    for backend, size, label, run in runs:
        for model in MODELS:
            incremental = run.model(run.incremental_nodes, model)
            rebuild = run.model(run.rebuild_nodes, model)
            ratio = f"{100 * incremental / rebuild:.0f} %" if incremental and rebuild else ""
            print(
                f"| {backend} | {size:,} | {label} | `{model}` |"
                f" {incremental or 0:.2f} | {rebuild or 0:.2f} | {ratio} |"
            )
        print(
            f"| {backend} | {size:,} | {label} | (this-run models) | {run.this_run_models():.2f} | | |"
        )


if __name__ == "__main__":
    main()
