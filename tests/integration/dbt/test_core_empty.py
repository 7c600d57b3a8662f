"""The core marts build, with all their tests and unit tests, on a warehouse with no source rows."""

from __future__ import annotations

import pytest
from acd_analytics.warehouse_url import WarehouseTarget

from tests.integration.dbt.conftest import query

pytestmark = pytest.mark.slow

CORE_MARTS = (
    "fct_events",
    "dim_persons",
    "fct_funnel_steps",
    "rpt_funnel_conversion",
    "fct_attribution_credits",
    "rpt_channel_attribution",
)


def test_core_marts_build_empty(built_empty: WarehouseTarget) -> None:
    """`built_empty` ran `dbt build` (every model, data test and unit test) with no source rows."""
    for mart in CORE_MARTS:
        assert query(built_empty, f"select count(*) from marts.{mart}") == [(0,)], mart
