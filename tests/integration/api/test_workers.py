"""`acd-warehouse api --workers N` on PostgreSQL: every worker logs in as the one API role."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, wait_until
from tests.integration.api.conftest import Harness

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

WORKERS = 2


def _workers(pid: int) -> list[int]:
    """uvicorn's worker processes under `pid` (not multiprocessing's resource tracker)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        for child in (task / "children").read_text().split():
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(int(child))
    return found


def _login_url(pid: int) -> str | None:
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    for entry in environ:
        name, _, value = entry.partition(b"=")
        if name == b"ACD_API_WAREHOUSE_URL":
            return value.decode()
    return None


def test_the_workers_share_one_api_role_login(
    harnesses: dict[str, Harness], manifest_path: Path, tmp_path: Path
) -> None:
    harness = harnesses["postgres"]
    _, key = harness.key(product="pct")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "ACD_WAREHOUSE_URL": harness.target.url,
        "ACD_API_MANIFEST": str(manifest_path),
    }
    env.pop("ACD_API_WAREHOUSE_URL", None)
    command = [sys.executable, "-m", "orchestration.cli", "api", "--port", str(port)]
    with (tmp_path / "api.log").open("wb") as log:
        process = subprocess.Popen(
            [*command, "--workers", str(WORKERS)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:

        def healthy() -> bool:
            try:
                return httpx.get(url + "/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, timeout=90, what="the API's workers to start")
        wait_until(lambda: len(_workers(process.pid)) >= WORKERS, what="both workers")
        # Before the fix each worker made the role itself: a new password under the other's
        # pool each time, or a failed start when two did so at once.
        logins = [_login_url(pid) for pid in _workers(process.pid)]
        assert len(logins) == WORKERS and all(logins)
        assert len(set(logins)) == 1, "the workers log in with different passwords"
        for _ in range(10):
            answer = httpx.get(
                url + "/v1/marts/rpt_product_daily",
                headers={"Authorization": f"Bearer {key}"},
                timeout=30,
            )
            assert answer.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=30)
