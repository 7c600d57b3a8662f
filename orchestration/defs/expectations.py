"""Great Expectations suites run as Dagster asset checks, on rows read from the warehouse.

A suite is a list of `Expectation`s (a small description of a GE 1.x expectation); `run_suite`
reads the rows with one SQL query (the same on DuckDB and PostgreSQL), validates them as a
pandas frame in an ephemeral GE context (no files, no analytics, no progress bars) and turns
the outcome into an `AssetCheckResult` whose description names the failing rows by their key.
GE is imported when a check runs, not when the code location loads (it takes seconds).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import dagster as dg

from orchestration.defs.resources import WarehouseResource

MAX_ROWS_NAMED = 5


@dataclass(frozen=True)
class Expectation:
    """`kind` is the GE expectation class name (`ExpectColumnValuesToNotBeNull`, …)."""

    kind: str
    column: str
    options: dict[str, Any] = field(default_factory=dict)
    meaning: str = ""  # what a failure means, in the check's message

    def describe(self) -> str:
        return self.meaning or f"{self.kind}({self.column})"


@dataclass(frozen=True)
class Failure:
    expectation: Expectation
    count: int
    rows: list[dict[str, Any]]

    def __str__(self) -> str:
        named = "; ".join(
            ", ".join(f"{k}={v}" for k, v in row.items()) for row in self.rows[:MAX_ROWS_NAMED]
        )
        more = f" (and {self.count - MAX_ROWS_NAMED} more)" if self.count > MAX_ROWS_NAMED else ""
        return f"{self.expectation.describe()}: {self.count} rows failed: {named}{more}"


def read_frame(warehouse: WarehouseResource, sql: str) -> Any:
    """The rows of `sql` as a pandas DataFrame (column names from the cursor)."""
    import pandas as pd

    with warehouse.connect() as conn:
        cursor = conn.execute(sql)
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    return pd.DataFrame.from_records(rows, columns=columns)


@cache
def _context() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.data_sources.add_pandas("warehouse")
    return context


def validate_frame(
    name: str, frame: Any, expectations: Sequence[Expectation], key_columns: Sequence[str]
) -> list[Failure]:
    """Run the suite on `frame`; one `Failure` per unmet expectation, with failing rows' keys."""
    import great_expectations as gx

    context = _context()
    source = context.data_sources.get("warehouse")
    asset_names = {asset.name for asset in source.assets}
    asset = source.get_asset(name) if name in asset_names else source.add_dataframe_asset(name)
    batch_names = {b.name for b in asset.batch_definitions}
    batch_definition = (
        asset.get_batch_definition("all")
        if "all" in batch_names
        else asset.add_batch_definition_whole_dataframe("all")
    )
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    failures = []
    for expectation in expectations:
        expectation_class = getattr(gx.expectations, expectation.kind)
        result = batch.validate(
            expectation_class(column=expectation.column, **expectation.options),
            result_format={
                "result_format": "COMPLETE",
                "unexpected_index_column_names": list(key_columns),
            },
        )
        if result.success:
            continue
        details = result.result
        indexes = details.get("unexpected_index_list") or []
        rows = [_plain(row) for row in indexes if isinstance(row, dict)]
        count = int(details.get("unexpected_count") or len(rows) or 1)
        failures.append(Failure(expectation, count, rows))
    return failures


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: (value.isoformat() if hasattr(value, "isoformat") else value)
        for key, value in row.items()
    }


def run_suite(
    warehouse: WarehouseResource,
    *,
    name: str,
    sql: str,
    expectations: Sequence[Expectation],
    key_columns: Sequence[str],
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
    asset_key: dg.AssetKey | None = None,
) -> dg.AssetCheckResult:
    frame = read_frame(warehouse, sql)
    failures = validate_frame(name, frame, expectations, key_columns) if len(frame) else []
    metadata: dict[str, Any] = {
        "rows_checked": len(frame),
        "expectations": len(expectations),
        "failed_expectations": len(failures),
    }
    if failures:
        metadata["failing_rows"] = dg.MetadataValue.json(
            {f.expectation.describe(): f.rows[:50] for f in failures}
        )
    description = (
        " | ".join(str(f) for f in failures)
        if failures
        else f"{len(frame)} rows meet {len(expectations)} expectations"
    )
    return dg.AssetCheckResult(
        passed=not failures,
        severity=severity,
        description=description,
        metadata=metadata,
        asset_key=asset_key,
    )
