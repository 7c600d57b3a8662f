"""Benchmark: how fast the sample world is generated, and written through the SDK.

    .venv/bin/python bench/world_generation.py --users 20000 --days 30
    .venv/bin/python bench/world_generation.py --users 2000 --days 30 --write duckdb
    .venv/bin/python bench/world_generation.py --users 2000 --days 30 \
        --write postgresql+psycopg://postgres@127.0.0.1:5432/bench_world

Mode `generate` (default) simulates the world and writes its payload files, counting the
events instead of delivering them: the generator's own speed. With `--write URL` (or
`duckdb` for a fresh file in a temp folder) it runs `seed` end to end: product tables, every
event through `acd_analytics.Client` until flushed, and the payloads. Prints one Markdown
table row per run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from acd_analytics.warehouse_url import parse_warehouse_url
from acd_sample_world.config import WorldConfig
from acd_sample_world.events import CountingEventWriter
from acd_sample_world.generate import generate_world
from acd_sample_world.seed import seed_world


class CountingTables:
    def __init__(self) -> None:
        self.rows = 0

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.rows += 1


def run(users: int, days: int, seed: int, write: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="acd-world-bench-") as tmp:
        out = Path(tmp) / "world"
        config = WorldConfig(
            users=users, days=days, seed=seed, end_date=date(2024, 6, 30), out_dir=out
        )
        started = time.perf_counter()
        if write is None:
            manifest = generate_world(config, events=CountingEventWriter(), tables=CountingTables())
            mode = "generate + payload files"
        else:
            url = f"duckdb:///{Path(tmp) / 'bench.duckdb'}" if write == "duckdb" else write
            target = parse_warehouse_url(url)
            manifest = seed_world(target, config)
            mode = f"seed into {target.backend} (SDK, async, batch 20k)"
        elapsed = time.perf_counter() - started
        size = sum(path.stat().st_size for path in out.rglob("*") if path.is_file())
        events = manifest["counts"]["events"]
        print(
            f"| {mode} | {users:,} | {days} | {events:,} | {elapsed:.1f} s | "
            f"{events / elapsed:,.0f} | {size / 1e6:,.0f} MB |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--write", default=None, help="warehouse URL, or `duckdb` for a temp file")
    args = parser.parse_args()
    print("| run | people | days | events | wall time | events/s | payload files |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    run(args.users, args.days, args.seed, args.write)


if __name__ == "__main__":
    main()
