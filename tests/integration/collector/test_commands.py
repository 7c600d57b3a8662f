"""`acd-warehouse keys create|list|revoke` against a real warehouse (both backends)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from acd_analytics.warehouse_url import WarehouseTarget

from collector.keys import KeyStore, create_key, hash_key, lookup_key
from orchestration.cli import main
from tests.integration.sdk.conftest import query


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_keys_create_list_revoke(
    warehouse: WarehouseTarget, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ACD_WAREHOUSE_URL", warehouse.url)
    status, out, _ = run(
        capsys, "keys", "create", "--product", "portal28", "--origin", "https://app.example.com/"
    )
    assert status == 0
    key = out.splitlines()[-1]
    assert key.startswith("acdwk_") and " " not in key
    found = lookup_key(warehouse, key)
    assert found is not None and found.product == "portal28" and not found.revoked
    assert found.allowed_origins == ("https://app.example.com",)
    # Stored hashed: the key itself is nowhere in the table.
    rows = query(warehouse, "select key_id, key_sha256, product from collector_write_keys")
    assert rows == [(found.key_id, hash_key(key), "portal28")]

    status, out, _ = run(capsys, "keys", "list")
    assert status == 0 and found.key_id in out and "portal28" in out and key not in out

    status, out, _ = run(capsys, "keys", "revoke", found.key_id)
    assert status == 0 and "revoked" in out
    revoked = lookup_key(warehouse, key)
    assert revoked is not None and revoked.revoked

    status, _, err = run(capsys, "keys", "revoke", "wk_nope")
    assert status == 1 and "wk_nope" in err and len(err.strip().splitlines()) == 1


def test_keys_create_refuses_a_bad_product(
    warehouse: WarehouseTarget, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ACD_WAREHOUSE_URL", warehouse.url)
    status, out, err = run(capsys, "keys", "create", "--product", "Not A Slug")
    assert status == 1 and "--product" in err and out == ""


@pytest.mark.parametrize("backend", ["duckdb"])
def test_a_key_lookup_waits_for_a_duckdb_file_another_process_holds(
    warehouse: WarehouseTarget,
) -> None:
    """A key not yet cached is looked up even while another process holds the DuckDB file
    for a moment (a build, a reader): the collector waits instead of answering 503."""
    key = create_key(warehouse, "portal28", [])[1]
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time\n"
            f"conn = duckdb.connect({str(warehouse.duckdb_path)!r})\n"
            "print('held', flush=True)\n"
            "time.sleep(0.5)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        found = KeyStore(warehouse).lookup(key)
    finally:
        holder.wait(timeout=30)
    assert found is not None and found.product == "portal28"
