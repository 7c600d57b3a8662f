"""What a run reports back: per stream and account, pages read and rows written."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

Progress = Callable[[str], None]


def no_progress(message: str) -> None:
    """The default progress sink: say nothing."""


@dataclass
class StreamResult:
    stream: str
    account: str
    pages: int = 0
    rows: int = 0
    written: int = 0  # rows inserted, changed or deleted in the warehouse

    def __str__(self) -> str:
        return (
            f"{self.stream} {self.account}: {self.rows} rows from {self.pages} pages, "
            f"{self.written} written"
        )


class RowWriter(Protocol):
    def upsert(
        self, schema: str, table: str, rows: Sequence[Mapping[str, Any]], *, account_id: str
    ) -> int: ...


def upsert_each_page(
    result: StreamResult,
    pages: Iterable[tuple[str, Any]],
    to_rows: Callable[[Any, str], list[dict[str, Any]]],
    writer: RowWriter,
    table: tuple[str, str],
) -> StreamResult:
    """Upsert each page's rows into `table` (schema, name) in a transaction of its own, so a
    failure mid-stream keeps the pages already loaded; count pages, rows and writes."""
    schema, name = table
    for page, body in pages:
        rows = to_rows(body, page)
        result.written += writer.upsert(schema, name, rows, account_id=result.account)
        result.pages += 1
        result.rows += len(rows)
    return result
