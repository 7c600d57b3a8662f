"""The Dagster code location loads and its dbt assets cover the dbt project."""

from __future__ import annotations

import json

import pytest

from orchestration.defs.dbt.project import ensure_manifest


@pytest.fixture(autouse=True)
def placeholder_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACD_WAREHOUSE_URL", "duckdb:///:memory:")


def test_code_location_loads_with_every_dbt_model_as_an_asset() -> None:
    from orchestration.definitions import defs

    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    manifest = json.loads(ensure_manifest().read_text())
    models = [
        node for node in manifest["nodes"].values() if node["resource_type"] in ("model", "seed")
    ]
    for node in models:
        assert any(key.endswith(node["name"]) for key in keys), node["name"]
    assert defs.resolve_schedule_def("dbt_build_hourly").cron_schedule == "15 * * * *"
