"""Typed errors of an ingest run; each message is one line a user can act on."""

from __future__ import annotations


class IngestError(RuntimeError):
    """Base class: the run failed; nothing partial of the failing page or window is stored."""


class ApiError(IngestError):
    """The API answered with an error that retrying will not fix (bad token, bad request)."""


class RetriesExhausted(IngestError):
    """A transient failure (5xx, timeout, connection) persisted through every retry."""


class RateLimited(IngestError):
    """The API kept throttling past the longest wait we accept."""


class CircuitOpen(IngestError):
    """Too many consecutive failures: the client stopped calling the API for a while."""


class MalformedPage(IngestError):
    """A page does not have the shape we rely on; names the page and the field."""

    def __init__(self, page: str, field: str, problem: str) -> None:
        super().__init__(f"malformed page {page}: field {field!r} {problem}")
        self.page = page
        self.field = field
