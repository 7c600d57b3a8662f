"""CPU time of processes from Linux's `/proc`, for the API benchmarks: light enough to import in
a benchmark's child process without the rest of `bench/`."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) process `pid` has used, in seconds (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def process_tree(pid: int) -> list[int]:
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            pids += process_tree(int(child))
    return pids


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """Seconds of CPU between two snapshots ({pid: seconds}); a process that started in
    between counts whole."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def backends(conninfo: str, database: str | None) -> list[int]:
    """The PostgreSQL backends connected to `database` (the API's, during its pass), found
    through `conninfo` (a login that may see them)."""
    if database is None:
        return []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        rows = conn.execute(
            "select pid from pg_stat_activity where datname = %s and pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return [pid for (pid,) in rows]
