from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from acd_analytics.warehouse_url import WarehouseTarget

from warehouse_db.connection import connect
from warehouse_db.raw_load import RawWriter

sys.path.insert(0, str(Path(__file__).parent))  # `import fakes`


@pytest.fixture
def writer(warehouse: WarehouseTarget) -> Iterator[RawWriter]:
    with connect(warehouse) as conn:
        yield RawWriter(conn, warehouse.backend)
