"""The audit log, secrets in logs, and a DuckDB file held by a build (docs/API.md, Audit)."""

from __future__ import annotations

import logging
import subprocess
import sys
import time

import pytest

from tests.integration.api.conftest import Harness

pytestmark = pytest.mark.slow


def test_every_request_is_audited_and_no_key_is_logged(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key_id, key = harness.key(product="portal28", name="audit-test")
    marker = f"audit{time.monotonic_ns()}"
    requests = [
        ("/v1/marts", key, {}, 200),
        ("/v1/marts/rpt_product_daily", key, {"limit": "3", "currency": "USD", "m": marker}, 400),
        ("/v1/marts/rpt_product_daily", key, {"limit": "3", "order": "-activity_date"}, 200),
        ("/v1/marts/fct_events", key, {"access_token": key, "limit": "2"}, 400),
        ("/v1/marts/dim_persons", key, {}, 403),
        ("/v1/marts/nope", key, {}, 404),
        ("/v1/marts", key + "x", {"m": marker}, 401),
    ]
    harness.flush_audit()  # the rows of earlier tests' requests, before counting
    started = harness.query("select count(*) from api_audit_log")[0][0]
    for path, token, params, status in requests:
        assert harness.get(path, token, params=params).status_code == status
    harness.flush_audit()
    rows = harness.query(
        "select key_id, key_name, method, path, query, status, rows_returned, duration_ms, "
        "requested_at from api_audit_log order by requested_at"
    )
    assert len(rows) == started + len(requests)
    mine = rows[-len(requests) :]
    for (path, _, _, status), row in zip(requests, mine, strict=True):
        assert row[2] == "GET" and row[3] == path and row[5] == status
        assert row[7] >= 0 and row[8] is not None
    assert [row[0] for row in mine[:-1]] == [key_id] * (len(requests) - 1)
    assert mine[0][1] == "audit-test"
    assert mine[-1][0] is None  # an unknown key is nobody
    assert mine[2][6] == 3  # rows returned
    everything = repr(harness.query("select * from api_audit_log"))
    assert key not in everything and key[6:20] not in everything
    assert mine[3][4] == "access_token=%5Bredacted%5D&limit=2"
    # The server's log lines (the test's own HTTP client logs the URLs it sends).
    server = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    assert "GET /v1/marts/{name} -> 403" in server
    assert key not in server and key[6:20] not in server


HOLD_THE_FILE = """
import duckdb, sys, time
deadline = time.monotonic() + 20
while True:
    try:
        conn = duckdb.connect(sys.argv[1])
        break
    except duckdb.IOException:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.05)
print("held", flush=True)
time.sleep(60)
"""


def test_while_a_build_holds_the_duckdb_file_the_answer_is_503(
    harnesses: dict[str, Harness],
) -> None:
    harness = harnesses["duckdb"]
    _, key = harness.key()
    assert harness.get("/v1/marts/rpt_product_daily", key).status_code == 200
    path = harness.target.duckdb_path
    # The holder retries for the lock: the API's audit writer takes the file for a moment
    # every half second.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            HOLD_THE_FILE,
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        busy = harness.get("/v1/marts/rpt_product_daily", key)
        assert time.monotonic() - started < 5  # answered, not hung
        assert busy.status_code == 503
        assert busy.json()["code"] == "unavailable"
        assert int(busy.headers["retry-after"]) >= 1
    finally:
        holder.kill()
        holder.wait()
    assert harness.get("/v1/marts/rpt_product_daily", key).status_code == 200
