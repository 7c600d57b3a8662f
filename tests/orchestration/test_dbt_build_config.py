"""The Dagster dbt steps: run config `full_refresh` reaches dbt, and the build lock holds."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pytest
from acd_analytics.warehouse_url import WarehouseTarget

from orchestration.defs.dbt.assets import dbt_partitioned_models, dbt_resource
from orchestration.defs.resources import warehouse_resource
from warehouse_db.build_lock import build_lock
from warehouse_db.connection import connect
from warehouse_db.dbt_env import dbt_build_args

pytestmark = pytest.mark.slow

TODAY = datetime.now(UTC).date().isoformat()


# Production builds leave the unit tests to `make test` (warehouse_db.dbt_env.DBT_BUILD).
NO_UNIT_TESTS = ["--exclude-resource-type", "unit_test"]


def _materialize(target: WarehouseTarget, config: dict[str, object]) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [dbt_partitioned_models],
        partition_key=TODAY,
        resources={"dbt": dbt_resource(), "warehouse": warehouse_resource(target)},
        run_config={"ops": {"dbt_partitioned_models": {"config": config}}},
        raise_on_error=False,
    )


def test_the_dbt_step_arguments() -> None:
    assert dbt_build_args(dbt_vars={}, full_refresh=False) == ["build", *NO_UNIT_TESTS]
    assert dbt_build_args(dbt_vars={"a": "1"}, full_refresh=True) == [
        "build",
        *NO_UNIT_TESTS,
        "--full-refresh",
        "--vars",
        '{"a": "1"}',
    ]


def test_run_config_full_refresh_reaches_dbt_and_the_lock_is_held(
    warehouse: WarehouseTarget,
) -> None:
    first = _materialize(warehouse, {})
    assert first.success
    recorded = "select model, recorded_at from acd_dbt_build_inputs order by model"
    with connect(warehouse) as conn:
        first_recorded = conn.execute(recorded).fetchall()
    # fct_events and int_anonymous_ids_claimed, recorded when created
    assert [model for model, _ in first_recorded] == ["fct_events", "int_anonymous_ids_claimed"]

    refreshed = _materialize(warehouse, {"full_refresh": True})
    assert refreshed.success
    with connect(warehouse) as conn:
        refreshed_recorded = conn.execute(recorded).fetchall()
    # Recorded again: only a build with --full-refresh does that.
    for (_, before), (_, after) in zip(first_recorded, refreshed_recorded, strict=True):
        assert after > before

    with build_lock(warehouse):
        locked = _materialize(warehouse, {"lock_wait_seconds": 0})
    assert not locked.success
    failure = next(e for e in locked.all_events if e.event_type_value == "STEP_FAILURE")
    assert "another dbt build is running" in str(failure.event_specific_data)
