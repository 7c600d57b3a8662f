"""What a run reports back: per stream and account, pages read and rows written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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
