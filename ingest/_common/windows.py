"""Which days a run pulls: the restated lookback plus anything new, in bounded windows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class DateWindow:
    since: date
    until: date  # inclusive

    def __str__(self) -> str:
        return f"{self.since.isoformat()}..{self.until.isoformat()}"


def sync_range(
    *,
    today: date,
    cursor: date | None,
    lookback_days: int,
    initial_days: int,
    start: date | None = None,
    end: date | None = None,
) -> DateWindow | None:
    """The days to pull: explicit `start`/`end` win; otherwise from the earlier of the day
    after the cursor and the first day of the restatement lookback (or `initial_days` back
    on a first run) up to today. None when there is nothing to pull."""
    until = end or today
    if start is None:
        restate_from = until - timedelta(days=max(lookback_days, 1) - 1)
        if cursor is None:
            start = until - timedelta(days=max(initial_days, 1) - 1)
        else:
            start = min(cursor + timedelta(days=1), restate_from)
    if start > until:
        return None
    return DateWindow(start, until)


def split_windows(span: DateWindow, days: int) -> Iterator[DateWindow]:
    """`span` cut into consecutive windows of at most `days` days, oldest first."""
    since = span.since
    while since <= span.until:
        until = min(span.until, since + timedelta(days=days - 1))
        yield DateWindow(since, until)
        since = until + timedelta(days=1)
