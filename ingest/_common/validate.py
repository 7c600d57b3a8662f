"""Shape checks that name the page and the field, so a bad page fails the run clearly."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ingest._common.errors import MalformedPage

_TYPE_NAMES = {
    dict: "an object",
    list: "a list",
    str: "a string",
    int: "an integer",
    bool: "a boolean",
}


def require(
    container: Any, field: str, kind: type | tuple[type, ...], page: str, path: str = ""
) -> Any:
    """`container[field]`, which must exist and be of `kind` (bool is never an int here)."""
    name = f"{path}.{field}" if path else field
    if not isinstance(container, dict):
        raise MalformedPage(page, path or "<body>", "is not an object")
    if field not in container or container[field] is None:
        raise MalformedPage(page, name, "is missing")
    value = container[field]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
        expected = " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)
        raise MalformedPage(page, name, f"should be {expected}, got {type(value).__name__}")
    return value


def require_id(container: Any, field: str, page: str, path: str = "") -> str:
    """An id: a non-empty string, or an integer (some APIs send JSON numbers), as text."""
    value = require(container, field, (str, int), page, path)
    text = str(value)
    if not text:
        raise MalformedPage(page, f"{path}.{field}" if path else field, "is empty")
    return text


def parse_date(value: str, page: str, field: str) -> date:
    """`YYYY-MM-DD`, or the date part of `YYYY-MM-DD HH:MM:SS` (TikTok's stat_time_day)."""
    try:
        return date.fromisoformat(value[:10]) if len(value) in (10, 19) else _bad()
    except ValueError:
        raise MalformedPage(page, field, f"is not a date: {value!r}") from None


def parse_timestamp(value: str, page: str, field: str, *, naive_ok: bool = False) -> datetime:
    """ISO-8601 with an offset, including Meta's colon-less `2023-03-21T22:41:46-0700`."""
    text = value.strip()
    if len(text) >= 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedPage(page, field, f"is not a timestamp: {value!r}") from None
    if parsed.tzinfo is None and not naive_ok:
        raise MalformedPage(page, field, f"has no UTC offset: {value!r}")
    return parsed


def _bad() -> date:
    raise ValueError
