"""The Starlette app of a service, built the same way for the collector and the read API.

A service gives its routes, how to start and stop the state it serves from (coroutines, or
functions run in a worker thread so that their I/O does not hold the event loop), and how a
path is named in logs and metrics (`serving.requestlog`); unknown paths and methods answer the
`{"code", "message"}` body. Once started, the process's cyclic garbage collector runs less often
(`GC_THRESHOLD`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from prometheus_client import Counter
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from serving.errors import error, not_allowed
from serving.metrics import process_stopped
from serving.requestlog import RequestLogging

# The cyclic garbage collector runs once this many more objects that can hold others (tuples,
# dicts) have been allocated than freed; Python's default is 700. A 1,000-row page is over
# 1,000 row tuples, so the default ran several collections per request, each walking the rows
# of every page in flight (docs/BENCHMARKS.md, Read API latency). The rows are freed by
# reference counting as soon as the answer is written, so they never need a collection.
GC_THRESHOLD = 20_000


async def _run_hook(hook: Callable[[], None] | Callable[[], Awaitable[None]]) -> None:
    """A start or stop hook: awaited if a coroutine function, else run in a worker thread."""
    if inspect.iscoroutinefunction(hook):
        await hook()
    else:
        await asyncio.to_thread(hook)


def service_app(
    routes: Sequence[BaseRoute],
    *,
    start: Callable[[], None] | Callable[[], Awaitable[None]],
    stop: Callable[[], None] | Callable[[], Awaitable[None]],
    logger: logging.Logger,
    requests: Counter,
    route_label: Callable[[str], str],
    cors: bool = False,
) -> Starlette:
    """The ASGI app: `routes`, `start` before the first request and `stop` after the last,
    each request counted in `requests` and logged when it fails (with `cors`, browsers'
    preflights answered and the request's origin mirrored)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await _run_hook(start)
        gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
        try:
            yield
        finally:
            await _run_hook(stop)
            process_stopped()

    async def not_found(request: Request, exc: Exception) -> Response:
        return error(404, "not_found", f"path: no endpoint {route_label(request.url.path)}")

    return Starlette(
        routes=list(routes),
        lifespan=lifespan,
        exception_handlers={404: not_found, 405: not_allowed},
        middleware=[
            Middleware(
                RequestLogging,
                logger=logger,
                requests=requests,
                route_label=route_label,
                cors=cors,
            )
        ],
    )
