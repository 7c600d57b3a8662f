"""`acd-warehouse build`'s guards on both backends: one build at a time, `--full-refresh` and
`--vars` reaching dbt, and the stored inputs that stop a build after a var change."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest
from acd_analytics.warehouse_url import WarehouseTarget, parse_warehouse_url

from orchestration.cli import main
from orchestration.commands import build as build_command
from orchestration.defs.dbt.project import ensure_manifest
from tests.integration.dbt.conftest import query
from warehouse_db.build_inputs import StaleIncrementalModels
from warehouse_db.build_lock import BuildLocked, build_lock


def test_a_second_build_fails_while_the_first_holds_the_lock(warehouse: WarehouseTarget) -> None:
    with (
        build_lock(warehouse),
        pytest.raises(BuildLocked, match="another dbt build is running"),
        build_lock(warehouse),
    ):
        pass
    with build_lock(warehouse):  # released
        pass


def test_the_cli_says_why_it_does_not_build(
    warehouse: WarehouseTarget, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ACD_WAREHOUSE_URL", warehouse.url)
    with build_lock(warehouse):
        assert main(["build"]) == 1
    error = capsys.readouterr().err
    assert "acd-warehouse build: another dbt build is running on" in error
    assert "--wait SECONDS" in error


def test_a_waiting_build_starts_when_the_first_ends(warehouse: WarehouseTarget) -> None:
    held = threading.Event()

    def first_build() -> None:
        with build_lock(warehouse):
            held.set()
            time.sleep(1.5)

    thread = threading.Thread(target=first_build)
    thread.start()
    held.wait(5)
    started = time.monotonic()
    with build_lock(warehouse, wait_seconds=30):
        waited = time.monotonic() - started
    thread.join()
    assert waited >= 0.5


def test_a_duckdb_file_open_in_another_process_is_named(duckdb_url: str) -> None:
    target = parse_warehouse_url(duckdb_url)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; conn = duckdb.connect(sys.argv[1]); print('open', flush=True);"
            " time.sleep(60)",
            str(target.duckdb_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(BuildLocked, match="is open in another process"), build_lock(target):
            pass
    finally:
        holder.kill()
        holder.wait()


def test_full_refresh_selection_and_vars_reach_dbt(
    warehouse: WarehouseTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACD_WAREHOUSE_URL", warehouse.url)
    calls: list[list[str]] = []

    def fake_dbt(target: WarehouseTarget, args: list[str], **_: Any) -> Any:
        calls.append(list(args))
        return SimpleNamespace(success=True, result=SimpleNamespace(results=[]))

    monkeypatch.setattr(build_command, "run_dbt_in_process", fake_dbt)
    argv = ["build", "--full-refresh", "--select", "fct_events+", "--vars", "{a: 1}"]
    assert main(argv) == 0
    assert main(["build"]) == 0
    # (production builds leave the unit tests to `make test`)
    no_unit_tests = ["--exclude-resource-type", "unit_test"]
    assert calls == [
        [
            "build",
            *no_unit_tests,
            "--full-refresh",
            "--select",
            "fct_events+",
            "--vars",
            '{"a": 1}',
        ],
        ["build", *no_unit_tests],
    ]


@pytest.mark.slow
def test_a_changed_var_stops_the_build_until_a_full_refresh(
    warehouse: WarehouseTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the tests of the selected models (not those that also read fct_attribution_credits).
    monkeypatch.setenv("DBT_INDIRECT_SELECTION", "cautious")
    select = ["+int_conversions_valued"]
    code_location_manifest = ensure_manifest()
    parsed_at = code_location_manifest.stat().st_mtime_ns
    assert "int_conversions_valued" in build_command.build(warehouse, select)
    signups_only = {"conversion_event_names": ["signup_completed"]}
    with pytest.raises(
        StaleIncrementalModels,
        match=r"var conversion_event_names changed since int_conversions_valued were built.*"
        r"`acd-warehouse build --full-refresh --select int_conversions_valued\+`",
    ):
        build_command.build(warehouse, select, dbt_vars=signups_only)
    recorded = build_command.build(
        warehouse, ["int_conversions_valued"], full_refresh=True, dbt_vars=signups_only
    )
    assert recorded == ["int_conversions_valued"]
    run_results = json.loads((build_command.BUILD_ARTIFACTS_DIR / "run_results.json").read_text())
    assert run_results["args"]["full_refresh"] is True
    # The build's own manifest (with these vars) went beside its run results: the one the
    # code location and the read API read is the parse's, untouched.
    assert code_location_manifest.stat().st_mtime_ns == parsed_at
    assert build_command.build(warehouse, select, dbt_vars=signups_only) == []
    stored = query(warehouse, "select inputs from acd_dbt_build_inputs order by model")
    assert any("var conversion_event_names" in row[0] for row in stored)
    with pytest.raises(StaleIncrementalModels):  # back to the project's value is a change too
        build_command.build(warehouse, select)
