"""The core marts build, with all their tests and unit tests, on a warehouse with no source rows."""

from __future__ import annotations

import pytest
from acd_analytics.warehouse_url import WarehouseTarget

from tests.integration.dbt.conftest import RunDbt, query

pytestmark = pytest.mark.slow

CORE_MARTS = (
    "fct_events",
    "dim_persons",
    "fct_funnel_steps",
    "rpt_funnel_conversion",
    "fct_attribution_credits",
    "rpt_channel_attribution",
)


def test_core_marts_build_empty(warehouse: WarehouseTarget, run_dbt: RunDbt) -> None:
    run_dbt(warehouse, ["build", "--select", "+core", "+marts.funnels", "+marts.attribution"])
    for mart in CORE_MARTS:
        assert query(warehouse, f"select count(*) from marts.{mart}") == [(0,)], mart
