"""JSON answers and the `{"code", "message"}` error body both services use.

A `message` starts with the name of what was wrong (`writeKey: …`, `limit: …`), so a client
can tell which field or parameter to fix.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

RETRY_AFTER_UNAVAILABLE = "5"


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response(status, {"code": code, "message": message}, headers)


class Refused(Exception):
    """Stop handling the request and answer this error."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.response = error(status, code, message, headers)


def unavailable(message: str, retry_after: str = RETRY_AFTER_UNAVAILABLE) -> Refused:
    """A 503 with `Retry-After`: the service cannot answer now, but will."""
    return Refused(503, "unavailable", message, {"Retry-After": retry_after})


async def not_allowed(request: Request, exc: Exception) -> Response:
    """Starlette's 405 handler, as a `{"code", "message"}` body."""
    return error(405, "method_not_allowed", f"method: {request.method} is not served here")
