"""The few DDL spellings that differ between DuckDB and PostgreSQL, for the migrations."""

from __future__ import annotations

from acd_analytics.warehouse_url import Backend


def json_type(backend: Backend) -> str:
    return "jsonb" if backend == "postgres" else "json"


def full_match(backend: Backend, column: str, pattern: str) -> str:
    """A boolean expression: `column` matches the whole regular expression `pattern`."""
    if backend == "postgres":
        return f"{column} ~ '{pattern}'"
    return f"regexp_full_match({column}, '{pattern}')"
