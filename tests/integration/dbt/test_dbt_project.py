"""The dbt project builds on an empty warehouse on both backends (docs/REFERENCE.md, Raw schemas and dbt schemas)."""

from __future__ import annotations

import pytest
from acd_analytics.warehouse_url import WarehouseTarget

from tests.integration.dbt.conftest import RunDbt, query

pytestmark = pytest.mark.slow


def test_build_on_an_empty_warehouse(warehouse: WarehouseTarget, run_dbt: RunDbt) -> None:
    run_dbt(warehouse, ["build"])
    schemas = {
        row[0] for row in query(warehouse, "select schema_name from information_schema.schemata")
    }
    dbt_schemas = {
        s for s in schemas if s in {"staging", "intermediate", "marts"} or s.endswith("_staging")
    }
    # Whatever dbt creates lands in exactly the schema names of docs/REFERENCE.md, never `<target>_<custom>`.
    assert all(s in {"staging", "intermediate", "marts"} for s in dbt_schemas)
