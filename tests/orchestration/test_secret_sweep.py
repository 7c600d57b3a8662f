"""No secret reaches what the pipeline leaves behind or prints.

On PostgreSQL with a password in `ACD_WAREHOUSE_URL` and API tokens of its own: the demo
command end to end, then the production wiring (tokens as `EnvVar`) pulling the sample world
through the live connectors in a Dagster run. Afterwards the password and every token are
searched for in the Dagster instance (run and event log storage, compressed snapshots
included, compute logs), dbt's `target/` and `logs/`, the sample world's output, and
everything the commands printed or logged.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from acd_analytics.warehouse_url import parse_warehouse_url
from acd_sample_world.config import DEFAULT_OUT_DIR
from acd_sample_world.fake_apis.server import SampleWorldServer

from orchestration.defs.ingest.resources import live_client_resources
from orchestration.defs.partitions import range_tags
from orchestration.demo.pipeline import SOURCES_JOB, pipeline_definitions, world_days
from tests.orchestration.conftest import server_base_urls
from warehouse_db.dbt_env import DBT_PROJECT_DIR

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

CLI = str(Path(sys.executable).with_name("acd-warehouse"))


def _texts_of_sqlite(path: Path) -> Iterator[str]:
    """Every cell of every table, zlib-compressed blobs (Dagster's snapshots) inflated."""
    with sqlite3.connect(path) as db:
        tables = [
            name for (name,) in db.execute("select name from sqlite_master where type='table'")
        ]
        for table in tables:
            for row in db.execute(f'select * from "{table}"'):
                for cell in row:
                    if isinstance(cell, bytes):
                        with contextlib.suppress(zlib.error):
                            cell = zlib.decompress(cell)
                        yield cell.decode("utf-8", "replace")
                    elif cell is not None:
                        yield str(cell)


def _texts_under(root: Path, written_since: float = 0.0) -> Iterator[tuple[Path, str]]:
    """The text of every file under `root` written at or after `written_since` (a SQLite
    file's cells). A file deleted while the walk reads it is skipped: the dbt steps of tests on
    the other worker prune their steps' oldest target folders meanwhile."""
    for folder, _subfolders, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            try:
                if path.stat().st_mtime < written_since:
                    continue
                content = path.read_bytes()
            except FileNotFoundError:
                continue
            if content[:16] == b"SQLite format 3\x00":
                yield path, "\n".join(_texts_of_sqlite(path))
            else:
                yield path, content.decode("utf-8", "replace")


def _leaks(places: dict[str, str], secrets: dict[str, str]) -> list[str]:
    return [
        f"{name} in {place}"
        for place, text in places.items()
        for name, value in secrets.items()
        if value in text
    ]


def test_no_password_or_token_in_storage_logs_artifacts_or_output(
    postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    unique = uuid.uuid4().hex
    secrets = {
        "password": f"Pw{unique[:20]}",
        "META_ACCESS_TOKEN": f"EAAmeta{unique}",
        "TIKTOK_ACCESS_TOKEN": f"tiktok{unique}",
        "TIKTOK_DISPLAY_ACCESS_TOKEN": f"act.display{unique}",
        "STRIPE_API_KEY": f"sk_test_{unique}",
    }
    # Trust authentication accepts any password, so the URL works as a real one would.
    url = postgres_url.replace("postgres@", f"postgres:{secrets['password']}@", 1)
    assert secrets["password"] in url
    monkeypatch.setenv("ACD_WAREHOUSE_URL", url)
    for name, value in secrets.items():
        if name != "password":
            monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    started = time.time()

    demo = subprocess.run(
        [CLI, "demo", "--users", "60", "--days", "5"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        check=False,
    )
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "postgres:***@" in demo.stdout

    world = tmp_path / DEFAULT_OUT_DIR  # the demo's default --out
    with SampleWorldServer(world) as server:
        manifest = server.manifest
        bases = server_base_urls(server)
        accounts = manifest["accounts"]
        monkeypatch.setenv("META_API_BASE_URL", bases["meta"])
        monkeypatch.setenv("META_AD_ACCOUNT_IDS", ",".join(accounts["meta_ad_account_ids"]))
        monkeypatch.setenv("TIKTOK_API_BASE_URL", bases["tiktok"])
        monkeypatch.setenv("TIKTOK_ADVERTISER_IDS", ",".join(accounts["tiktok_advertiser_ids"]))
        monkeypatch.setenv("TIKTOK_DISPLAY_API_BASE_URL", bases["tiktok_display"])
        monkeypatch.setenv("STRIPE_API_BASE_URL", bases["stripe"])
        ingest = subprocess.run(
            [CLI, "ingest", "stripe"], capture_output=True, text=True, env=dict(os.environ)
        )
        assert ingest.returncode == 0, ingest.stdout[-2000:] + ingest.stderr[-2000:]
        defs = pipeline_definitions(parse_warehouse_url(url), live_client_resources())
        with dg.DagsterInstance.from_config(str(tmp_path / ".dagster_home")) as instance:
            sources = defs.resolve_job_def(SOURCES_JOB).execute_in_process(
                instance=instance,
                tags=range_tags(world_days(manifest)),
                raise_on_error=False,
                run_config={"loggers": {"progress": {}}},
            )
    assert sources.success, [e.message for e in sources.all_events if e.is_failure]

    printed = capfd.readouterr()
    places = {
        "the demo's output": demo.stdout + demo.stderr,
        "the ingest command's output": ingest.stdout + ingest.stderr,
        "the test process's output": printed.out + printed.err,
        "the log records": "\n".join(r.getMessage() for r in caplog.records),
        "the sources run's events": "\n".join(json.dumps(str(e)) for e in sources.all_events),
    }
    for root in (tmp_path / ".dagster_home", world, tmp_path / "logs"):
        if root.exists():
            places |= {str(p): text for p, text in _texts_under(root)}
    new_dbt_files = {
        path: text
        for folder in ("target", "logs")
        for path, text in _texts_under(DBT_PROJECT_DIR / folder, written_since=started)
    }
    assert any(p.name == "run_results.json" for p in new_dbt_files)
    places |= {str(p): text for p, text in new_dbt_files.items()}
    assert any("runs.db" in place for place in places), "the Dagster instance was not searched"

    assert _leaks(places, secrets) == []
