"""One log line and one metric per request, with nothing secret in either; optional CORS.

A request is known in logs and metrics only by its method, its route label (which the service
computes from the path, with key-bearing parts removed and cardinality bounded) and its
status: never a query string, a header or a body. uvicorn's own access log is off
(`serving.server.serve`), so these are the only request lines a service writes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from prometheus_client import Counter
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def cors_headers(origin: str | None, request_headers: str | None) -> dict[str, str]:
    """Permissive CORS: the request's origin mirrored (each route checks what it accepts)."""
    if not origin:
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": request_headers
        or "Content-Type, Authorization, X-Retry-Count",
        "Vary": "Origin",
    }


class RequestLogging:
    """ASGI middleware: count every request in `requests` (labels route, status) and log the
    failed ones (4xx but 429, and 5xx) at INFO; with `cors`, answer preflights and mirror the
    request's origin on every answer."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        logger: logging.Logger,
        requests: Counter,
        route_label: Callable[[str], str],
        cors: bool = False,
    ) -> None:
        self.app = app
        self.log = logger
        self.requests = requests
        self.route_label = route_label
        self.cors = cors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = self.route_label(scope["path"])
        origin = None
        if self.cors:
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            origin = headers.get("origin")
            if scope["method"] == "OPTIONS":
                cors = cors_headers(origin, headers.get("access-control-request-headers"))
                response = Response(b"", 200, {**cors, "Access-Control-Max-Age": "86400"})
                await response(scope, receive, send)
                self.requests.labels(route, "200").inc()
                return
        status = 500

        async def send_logged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if origin:
                    extra = [
                        (k.encode("latin-1"), v.encode("latin-1"))
                        for k, v in cors_headers(origin, None).items()
                    ]
                    message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            await self.app(scope, receive, send_logged)
        finally:
            self.requests.labels(route, str(status)).inc()
            if status >= 500 or (status >= 400 and status != 429):
                self.log.info("%s %s -> %d", scope["method"], route, status)
