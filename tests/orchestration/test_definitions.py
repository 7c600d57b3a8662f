"""The code location loads with placeholder settings, and what it defines is a reviewed list.

`expected_definitions.txt` lists every asset, check (other than dbt's tests, compared with the
manifest instead), job, schedule, sensor and pool. When a change is deliberate, regenerate it with
`ACD_UPDATE_SNAPSHOTS=1 pytest tests/orchestration/test_definitions.py` and review the diff.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from orchestration.defs.dbt.project import ensure_manifest

SNAPSHOT = Path(__file__).with_name("expected_definitions.txt")


def _defs() -> dg.Definitions:
    from orchestration.definitions import defs

    return defs


def definition_lines(defs: dg.Definitions) -> list[str]:
    from orchestration.defs.dbt.assets import DBT_ASSETS

    graph = defs.resolve_asset_graph()
    dbt_tests = {key for assets in DBT_ASSETS for key in assets.check_keys}
    lines = [f"asset {key.to_user_string()}" for key in graph.get_all_asset_keys()]
    lines += [
        f"partitioned {key.to_user_string()} {graph.get(key).partitions_def}"
        for key in graph.get_all_asset_keys()
        if graph.get(key).partitions_def is not None
    ]
    lines += [
        f"check {key.asset_key.to_user_string()}:{key.name}"
        for key in graph.asset_check_keys
        if key not in dbt_tests
    ]
    lines += [f"job {job.name}" for job in defs.jobs or []]
    lines += [
        f"schedule {s.name} '{s.cron_schedule}' {s.execution_timezone} -> {s.job_name}"
        for s in defs.schedules or []
    ]
    lines += [f"sensor {s.name} -> {s.job_name}" for s in defs.sensors or []]
    for assets_def in defs.assets or []:
        if isinstance(assets_def, dg.AssetsDefinition) and assets_def.op.pool:
            lines += [
                f"pool {key.to_user_string()} {assets_def.op.pool}" for key in assets_def.keys
            ]
    return sorted(lines)


def test_code_location_loads_and_matches_the_reviewed_snapshot() -> None:
    defs = _defs()
    dg.Definitions.validate_loadable(defs)
    lines = definition_lines(defs)
    if os.environ.get("ACD_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text("\n".join(lines) + "\n")
    assert lines == SNAPSHOT.read_text().splitlines()


def test_every_dbt_model_is_an_asset_and_every_dbt_test_a_check() -> None:
    from orchestration.defs.dbt.assets import DBT_ASSETS

    defs = _defs()
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    manifest = json.loads(ensure_manifest().read_text())
    for node in manifest["nodes"].values():
        if node["resource_type"] in ("model", "seed"):
            assert any(key.endswith(node["name"]) for key in keys), node["name"]
    tests = {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test" and node.get("attached_node")
    }
    assert tests
    assert tests <= {key.name for assets in DBT_ASSETS for key in assets.check_keys}


def test_raw_assets_feed_the_dbt_sources() -> None:
    graph = _defs().resolve_asset_graph()
    for staging, raw in [
        ("stg_meta__ads_insights", ["raw_meta", "ads_insights"]),
        ("stg_tiktok__ad_reports", ["raw_tiktok", "ad_reports"]),
        ("stg_stripe__charges", ["raw_stripe", "charges"]),
        ("stg_shared__events", ["shared", "shared_events"]),
    ]:
        assert dg.AssetKey(raw) in graph.get(dg.AssetKey(["staging", staging])).parent_keys


def test_secrets_stay_environment_variables_in_the_resources() -> None:
    resources = _defs().resources or {}
    assert isinstance(resources["meta"].access_token, dg.EnvVar)
    assert isinstance(resources["tiktok"].access_token, dg.EnvVar)
    assert isinstance(resources["tiktok_display"].access_token, dg.EnvVar)
    assert isinstance(resources["stripe"].api_key, dg.EnvVar)
    assert "placeholder" not in repr(resources)


def test_a_missing_credential_fails_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("META_ACCESS_TOKEN")
    meta = _defs().resources["meta"]  # type: ignore[index]
    with (
        pytest.raises(Exception, match="META_ACCESS_TOKEN"),
        dg.build_resources({"meta": meta}) as built,
    ):
        built.meta.settings()


def test_the_dbt_project_splits_into_a_partitioned_set_with_nothing_of_the_other_upstream() -> None:
    from orchestration.defs.dbt.assets import dbt_models, dbt_partitioned_models

    graph = _defs().resolve_asset_graph()
    partitioned = set(dbt_partitioned_models.keys)
    unpartitioned = set(dbt_models.keys)
    assert dg.AssetKey(["marts", "fct_events"]) in partitioned
    assert dg.AssetKey(["marts", "fct_attribution_credits"]) in unpartitioned
    assert not partitioned & unpartitioned
    # Closed upwards: a run builds the partitioned set first, with no cycle between the two.
    for key in partitioned:
        assert not graph.get(key).parent_keys & unpartitioned, key
    # A test reading both sets is a check of the unpartitioned one, which runs after both.
    checks = {key.name: key.asset_key for key in dbt_models.check_keys}
    crossing = [
        name for name in checks if name.startswith("relationships_") and "fct_events" in name
    ]
    assert len(crossing) >= 4
    assert not {key.name for key in dbt_partitioned_models.check_keys} & set(crossing)


def test_a_dbt_project_without_a_partitioned_model_is_refused() -> None:
    from orchestration.defs.dbt.assets import unpartitioned_names

    manifest = {"nodes": {"model.p.a": {"name": "a", "resource_type": "model", "tags": []}}}
    with pytest.raises(ValueError, match="tagged 'partitioned'"):
        unpartitioned_names({**manifest, "parent_map": {}})


def test_the_code_location_imports_nothing_of_the_sample_world() -> None:
    """Production never loads the demo-only orchestration or the sample world package."""
    probe = (
        "import sys, orchestration.definitions; "
        "print(sorted(m for m in sys.modules "
        "if m.startswith(('acd_sample_world', 'orchestration.demo'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "ACD_WAREHOUSE_URL": "duckdb:///:memory:"},
    )
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout


LOAD_WITHOUT_SIDE_EFFECTS = """
import os, subprocess, warnings
# Third-party libraries add their own filters on import (and subclass Popen): load them first.
import dagster, dagster_dbt, dbt.cli.main  # noqa: E401
def no_subprocess(*args, **kwargs):
    raise AssertionError(f"loading the code location started a process: {args[0]!r}")
subprocess.run = subprocess.Popen = no_subprocess
filters, environ = list(warnings.filters), dict(os.environ)
import orchestration.definitions
print("filters:", [f for f in warnings.filters if f not in filters])
print("environ:", sorted(set(os.environ.items()) ^ set(environ.items())))
"""


def test_loading_the_code_location_runs_no_dbt_and_changes_no_global_state() -> None:
    """Importing `orchestration.definitions` only reads the dbt manifest (made beforehand by
    `make install`): no `dbt parse` or other process, no warnings filter, no environment
    variable."""
    done = subprocess.run(
        [sys.executable, "-c", LOAD_WITHOUT_SIDE_EFFECTS],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "ACD_WAREHOUSE_URL": "duckdb:///:memory:"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-2:] == ["filters: []", "environ: []"], done.stdout
