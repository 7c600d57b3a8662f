"""The dbt project builds on an empty warehouse on both backends (docs/REFERENCE.md, Raw schemas and dbt schemas)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from acd_analytics.warehouse_url import WarehouseTarget

from orchestration.defs.dbt.project import ensure_manifest
from tests.integration.dbt.conftest import query


@pytest.mark.slow
def test_build_on_an_empty_warehouse(built_empty: WarehouseTarget) -> None:
    """`built_empty` is the whole project built on a migrated warehouse with no source rows."""
    schemas = {
        row[0] for row in query(built_empty, "select schema_name from information_schema.schemata")
    }
    dbt_schemas = {
        s for s in schemas if s in {"staging", "intermediate", "marts"} or s.endswith("_staging")
    }
    # Whatever dbt creates lands in exactly the schema names of docs/REFERENCE.md, never `<target>_<custom>`.
    assert all(s in {"staging", "intermediate", "marts"} for s in dbt_schemas)


LAYERS = ("staging", "core", "intermediate", "marts")
NAMES = {
    "staging": r"stg_[a-z0-9]+__[a-z0-9_]+",
    "core": r"(fct|dim|int)_[a-z0-9]+(_[a-z0-9]+)*",
    # int_<entities>_<what was done>: no source or area prefix (the folder is the area).
    "intermediate": r"int_[a-z0-9]+(_[a-z0-9]+)+",
    "marts": r"(fct|dim|rpt)_[a-z0-9]+(_[a-z0-9]+)*",
}


def _models() -> dict[str, dict[str, Any]]:
    manifest = json.loads(ensure_manifest().read_text())
    return {
        uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"
    }


def _layer(node: dict[str, Any]) -> str:
    return node["original_file_path"].split("/")[1]


def test_layers_follow_the_data() -> None:
    """staging → core → intermediate → marts: no model reads a model of a later layer (so no
    intermediate model reads a mart), and every model sits in one of the four."""
    models = _models()
    upward = [
        (node["name"], models[parent]["name"])
        for node in models.values()
        for parent in node["depends_on"]["nodes"]
        if parent in models and LAYERS.index(_layer(models[parent])) > LAYERS.index(_layer(node))
    ]
    assert upward == []
    assert {_layer(node) for node in models.values()} == set(LAYERS)


def test_model_names_follow_their_layer() -> None:
    misnamed = [
        node["original_file_path"]
        for node in _models().values()
        if not re.fullmatch(NAMES[_layer(node)], node["name"])
    ]
    assert misnamed == []
