"""The raw schemas that `acd-warehouse ingest` fills (docs/REFERENCE.md, Raw schemas), created empty.

The tables are defined once, in `warehouse_db.raw_schema`, which `raw_load` writes by. When a
raw table changes, this migration gets a frozen copy of the definitions it creates today and a
new migration alters the tables (see that module).
"""

from __future__ import annotations

from acd_analytics.warehouse_url import Backend

from warehouse_db.raw_schema import create_statements

VERSION = 2
NAME = "raw_tables"


def statements(backend: Backend) -> list[str]:
    return create_statements(backend)
