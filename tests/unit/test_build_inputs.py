"""The stale-input check of incremental models, on a small manifest (no dbt, no database)."""

from __future__ import annotations

from typing import Any

import pytest

from warehouse_db.build_inputs import (
    StaleIncrementalModels,
    check_not_stale,
    incremental_model_inputs,
)


def manifest(seed_checksum: str = "a") -> dict[str, Any]:
    """seed mapping -> events (incremental) -> conversions (incremental, var names) -> report."""

    def model(name: str, materialized: str, meta: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "name": name,
            "resource_type": "model",
            "config": {"materialized": materialized, "meta": meta or {}},
        }

    return {
        "nodes": {
            "seed.p.mapping": {
                "name": "mapping",
                "resource_type": "seed",
                "config": {},
                "checksum": {"name": "sha256", "checksum": seed_checksum},
            },
            "model.p.events": model("events", "incremental"),
            "model.p.conversions": model(
                "conversions", "incremental", {"rebuild_on_vars": ["names"]}
            ),
            "model.p.report": model("report", "table", {"rebuild_on_vars": ["ignored"]}),
        },
        "parent_map": {
            "model.p.events": ["seed.p.mapping", "source.p.raw.events"],
            "model.p.conversions": ["model.p.events"],
            "model.p.report": ["model.p.conversions"],
        },
    }


def stored_after_build(m: dict[str, Any], dbt_vars: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {
        name: dict(model.inputs) for name, model in incremental_model_inputs(m, dbt_vars).items()
    }


def test_inputs_are_the_seeds_upstream_and_the_declared_vars_of_the_model_and_its_parents() -> None:
    inputs = incremental_model_inputs(manifest(), {"names": ["purchase"]})
    assert set(inputs) == {"events", "conversions"}
    assert set(inputs["events"].inputs) == {"seed mapping"}
    assert set(inputs["conversions"].inputs) == {"seed mapping", "var names"}


def test_a_changed_seed_names_the_full_refresh_of_its_first_incremental_model() -> None:
    stored = stored_after_build(manifest("a"), {"names": ["purchase"]})
    m = manifest("b")
    current = incremental_model_inputs(m, {"names": ["purchase"]})
    with pytest.raises(StaleIncrementalModels) as raised:
        check_not_stale(m, current, stored, full_refresh=False)
    message = str(raised.value)
    assert "seed mapping changed since conversions, events were built" in message
    assert message.count("--select events+`") == 1  # conversions is downstream: no second root
    check_not_stale(m, current, stored, full_refresh=True)


def test_a_changed_var_stops_only_the_models_that_depend_on_it() -> None:
    m = manifest()
    stored = stored_after_build(m, {"names": ["purchase"]})
    current = incremental_model_inputs(m, {"names": ["purchase", "signup"]})
    with pytest.raises(StaleIncrementalModels, match=r"var names .* --select conversions\+`"):
        check_not_stale(m, current, stored, full_refresh=False)
    check_not_stale(m, current, stored, full_refresh=False, models_to_build={"events", "report"})


def test_a_model_without_stored_inputs_is_not_stale() -> None:
    m = manifest()
    current = incremental_model_inputs(m, {"names": ["x"]})
    check_not_stale(m, current, {}, full_refresh=False)
