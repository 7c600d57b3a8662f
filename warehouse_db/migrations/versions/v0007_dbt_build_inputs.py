"""The inputs each incremental dbt model was last built in full with (`warehouse_db.build_inputs`).

One row per incremental model: `inputs` is a JSON object from `seed <name>` / `var <name>` to a
SHA-256 of the seed file or the var's value. `acd-warehouse build` and the Dagster dbt assets
compare it with the current inputs before a build and refuse to update a model whose seeds or
vars changed without a full refresh (docs/RUNBOOK.md, Full refreshes).
"""

from __future__ import annotations

from acd_analytics.warehouse_url import Backend

VERSION = 7
NAME = "dbt_build_inputs"


def statements(backend: Backend) -> list[str]:
    return [
        "create table acd_dbt_build_inputs ("
        " model text primary key,"
        " inputs text not null,"
        " recorded_at timestamp with time zone not null default current_timestamp)"
    ]
