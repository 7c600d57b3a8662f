"""`acd-warehouse keys create|list|revoke` against a real warehouse (both backends)."""

from __future__ import annotations

import pytest
from acd_analytics.warehouse_url import WarehouseTarget

from collector.keys import hash_key, lookup_key
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
