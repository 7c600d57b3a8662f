"""dbt's `run_started_at` for sqlfluff's jinja templater (a fixed instant)."""

from datetime import UTC, datetime

_INSTANT = datetime(2025, 1, 1, tzinfo=UTC)


def strftime(fmt: str) -> str:
    return _INSTANT.strftime(fmt)


def isoformat() -> str:
    return _INSTANT.isoformat()
