"""The collector's routes (docs/COLLECTOR.md): Segment's Tracking API on Starlette.

Every ingestion request goes the same way: read the body (bounded, gzip inflated with a
bound), parse it, find the write key, check origin and rate, turn each message into a row or a
rejection (`wire`), append all of it to the journal and wait for the fsync, answer
`200 {"success": true}`. Errors are `{"code", "message"}` with the status real clients act on;
nothing here ever answers 201, 202 or 204.

Keys never reach a log line: uvicorn's access log is off and `serving.requestlog` writes
paths with the key part of `/v1/projects/{writeKey}/settings` and any query string removed.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import os
import time
from datetime import UTC, datetime
from typing import Any

from acd_analytics.warehouse_url import WarehouseTarget
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collector import metrics, wire
from collector.journal import (
    Journal,
    JournalFull,
    JournalUnavailable,
    Loader,
    event_line,
    rejected_line,
)
from collector.keys import KeyStore, KeyStoreUnavailable, WriteKey
from collector.settings import CollectorSettings, collector_settings
from serving.app import service_app
from serving.errors import RETRY_AFTER_UNAVAILABLE, Refused, error
from serving.errors import json_response as _json
from serving.metrics import metrics_response
from serving.ratelimit import TokenBuckets, retry_after_header
from warehouse_db.connection import warehouse_target

log = logging.getLogger("acd.collector")

SUCCESS = b'{"success":true}'
# A transparent 1x1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
BATCH_PATHS = ("batch", "b", "import")


class Collector:
    """The state one process serves from: settings, keys, rate limits, journal and loader."""

    def __init__(
        self,
        target: WarehouseTarget,
        settings: CollectorSettings,
        *,
        key_ttl: float = 30.0,
    ) -> None:
        self.target = target
        self.settings = settings
        self.keys = KeyStore(target, ttl=key_ttl)
        self.rates = TokenBuckets(settings.rate_limit)
        self.journal = Journal(settings.journal_dir, settings.journal_max_bytes)
        self.loader: Loader | None = None

    def start(self) -> None:
        self.journal.open()
        self.loader = Loader(self.journal, self.target)
        self.loader.start()
        log.info(
            "collector ready: warehouse %s, journal %s (budget %d bytes)",
            self.target.redacted(),
            self.journal.directory,
            self.settings.journal_max_bytes,
        )

    def stop(self) -> None:
        if self.loader is not None:
            self.loader.stop()
        self.journal.close()

    # -- the steps of a request

    def client_ip(self, request: Request) -> str | None:
        peer = request.client.host if request.client else None
        if self.settings.is_trusted_proxy(peer):
            forwarded = request.headers.get("x-forwarded-for", "")
            first = forwarded.split(",", 1)[0].strip()
            if first:
                return first
        return peer

    async def write_key(self, key: str | None, origin: str | None) -> WriteKey:
        if not key:
            raise Refused(
                401,
                "invalid_write_key",
                "writeKey: missing (send it as the HTTP Basic username or the body's writeKey)",
            )
        fresh, found = self.keys.cached(key)
        if not fresh:
            try:
                found = await asyncio.to_thread(self.keys.lookup, key)
            except KeyStoreUnavailable as exc:
                raise Refused(
                    503, "unavailable", str(exc), {"Retry-After": RETRY_AFTER_UNAVAILABLE}
                ) from None
        if found is None:
            raise Refused(401, "invalid_write_key", "writeKey: unknown write key")
        if found.revoked:
            raise Refused(401, "invalid_write_key", "writeKey: this write key was revoked")
        if not found.allows_origin(origin):
            raise Refused(
                401, "origin_not_allowed", f"Origin: {origin!r:.200} is not allowed for this key"
            )
        return found

    def take_rate(self, key: WriteKey, count: int) -> None:
        wait = self.rates.take(key.key_id, max(count, 1))
        if wait > 0:
            raise Refused(
                429,
                "rate_limited",
                f"writeKey: more than {self.rates.rate:g} messages per second for this key",
                {"Retry-After": retry_after_header(wait)},
            )

    async def journal_lines(self, lines: list[bytes]) -> None:
        try:
            await self.journal.append(b"".join(lines))
        except JournalFull as exc:
            raise Refused(
                503, "unavailable", f"journal: {exc}", {"Retry-After": RETRY_AFTER_UNAVAILABLE}
            ) from None
        except JournalUnavailable as exc:
            raise Refused(
                503, "unavailable", f"journal: {exc}", {"Retry-After": RETRY_AFTER_UNAVAILABLE}
            ) from None

    async def store(
        self,
        messages: list[Any],
        call_type: str | None,
        info: wire.RequestInfo,
        serialized: list[bytes] | None = None,
    ) -> list[wire.Rejection]:
        """Journal the messages' rows and rejections; return the rejections. `serialized`:
        each message's JSON text, when `wire.check_batch_depth` wrote it."""
        lines, rejections = journal_lines(messages, call_type, info, serialized)
        if lines:
            await self.journal_lines(lines)
        metrics.EVENTS_ACCEPTED.inc(len(messages) - len(rejections))
        for item in rejections:
            metrics.EVENTS_REJECTED.labels(item.code).inc()
        return rejections


def journal_lines(
    messages: list[Any],
    call_type: str | None,
    info: wire.RequestInfo,
    serialized: list[bytes] | None = None,
) -> tuple[list[bytes], list[wire.Rejection]]:
    """The journal lines of a request's messages (a row or a rejection each) and the
    rejections: all the Python work per message (bench/collector_throughput.py --in-process
    times it)."""
    lines: list[bytes] = []
    rejections: list[wire.Rejection] = []
    for index, message in enumerate(messages):
        parsed = wire.parse_message(
            message, call_type, info, None if serialized is None else serialized[index]
        )
        if isinstance(parsed, wire.Rejection):
            rejections.append(parsed)
            lines.append(
                rejected_line(
                    info.product, info.received_us, parsed.code, parsed.reason, parsed.payload
                )
            )
        else:
            lines.append(event_line(parsed))
    return lines, rejections


async def read_body(request: Request) -> bytes:
    """The body, inflated when gzip; refused past the request limit without reading it all."""
    declared = request.headers.get("content-length")
    encoding = request.headers.get("content-encoding", "").strip().lower()
    limit = wire.MAX_BODY_BYTES
    if declared and declared.isdigit() and int(declared) > limit and encoding != "gzip":
        raise wire.BadRequest(
            "payload_too_large", f"body: {declared} bytes, over the 500 KB request limit"
        )
    inflater: wire.BoundedInflater | None = (
        wire.BoundedInflater(limit) if encoding == "gzip" else None
    )
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        if not chunk:
            continue
        if inflater is None and size == 0 and chunk[:2] == b"\x1f\x8b":
            inflater = wire.BoundedInflater(limit)  # gzip sent without Content-Encoding
        if inflater is not None:
            inflater.feed(chunk)
            continue
        size += len(chunk)
        if size > limit:
            raise wire.BadRequest("payload_too_large", "body: over the 500 KB request limit")
        parts.append(chunk)
    if inflater is not None:
        return inflater.finish()
    return b"".join(parts)


def basic_username(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.split(":", 1)[0] or None


def _state(request: Request) -> Collector:
    collector: Collector = request.app.state.collector
    return collector


async def ingest(request: Request) -> Response:
    """POST /v1/{kind}: one message, a batch, or client metrics."""
    kind = request.path_params["kind"]
    if kind == "m":
        return Response(SUCCESS, 200, media_type="application/json")
    if kind in BATCH_PATHS:
        call_type = None
    else:
        call_type = wire.SHORT_TYPES.get(kind, kind)
        if call_type not in wire.CALL_TYPES:
            return error(404, "not_found", f"path: no endpoint /v1/{kind:.40}")
    collector = _state(request)
    received_at = datetime.now(UTC)
    started = time.perf_counter()
    try:
        raw = await read_body(request)
        value = wire.parse_json(raw, check_depth=call_type is not None)
        serialized = None if call_type is not None else wire.check_batch_depth(value, raw)
        body = wire.body_object(value)
        key = await collector.write_key(
            basic_username(request)
            or wire.write_key_in_body(body)
            or request.query_params.get("writeKey"),
            request.headers.get("origin"),
        )
        if call_type is None:
            messages = wire.batch_messages(body)
            context = body.get("context")
            info = wire.RequestInfo(
                product=key.product,
                received_at=received_at,
                client_ip=collector.client_ip(request),
                batch_context=context if isinstance(context, dict) else None,
                batch_sent_at=body.get("sentAt"),
            )
        else:
            messages = [body]
            info = wire.RequestInfo(
                product=key.product,
                received_at=received_at,
                client_ip=collector.client_ip(request),
            )
        collector.take_rate(key, len(messages))
        rejections = await collector.store(messages, call_type, info, serialized)
    except wire.BadRequest as exc:
        return error(400, exc.code, exc.message)
    except Refused as exc:
        return exc.response
    finally:
        metrics.REQUEST_SECONDS.observe(time.perf_counter() - started)
    if call_type is not None and rejections:
        return error(400, rejections[0].code, rejections[0].reason)
    return Response(SUCCESS, 200, media_type="application/json")


def _pixel_message(data: str | None) -> Any:
    if not data:
        return None
    text = data.strip()
    padded = text + "=" * (-len(text) % 4)
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            return wire.parse_json(decode(padded))
        except (binascii.Error, ValueError):
            continue
    return None


async def pixel(request: Request) -> Response:
    """GET /v1/pixel/{kind}?data=<base64 JSON>: always the GIF; a bad message is recorded."""
    gif = Response(PIXEL, 200, {"Cache-Control": "no-store"}, media_type="image/gif")
    call_type = request.path_params["kind"]
    if call_type not in wire.CALL_TYPES:
        return gif
    collector = _state(request)
    message = _pixel_message(request.query_params.get("data"))
    key_text = wire.write_key_in_body(message) if isinstance(message, dict) else None
    key_text = key_text or basic_username(request) or request.query_params.get("writeKey")
    try:
        key = await collector.write_key(key_text, request.headers.get("origin"))
        collector.take_rate(key, 1)
        info = wire.RequestInfo(
            product=key.product,
            received_at=datetime.now(UTC),
            client_ip=collector.client_ip(request),
        )
        if message is None:
            await collector.journal_lines(
                [
                    rejected_line(
                        key.product,
                        info.received_us,
                        "invalid_json",
                        "data: not base64 of a UTF-8 JSON message",
                        (request.query_params.get("data") or "")[: wire.MAX_MESSAGE_BYTES],
                    )
                ]
            )
            metrics.EVENTS_REJECTED.labels("invalid_json").inc()
        else:
            await collector.store([message], call_type, info)
    except Refused as exc:
        log.info("pixel %s not stored: %s", call_type, exc)
    return gif


async def project_settings(request: Request) -> Response:
    """GET /v1/projects/{writeKey}/settings: analytics-next's settings, pointing at us."""
    collector = _state(request)
    key_text = request.path_params["write_key"]
    try:
        await collector.write_key(key_text, None)
    except Refused as exc:
        return exc.response
    public = collector.settings.public_url
    if public:
        protocol, _, host = public.partition("://")
    else:
        protocol, host = request.url.scheme, request.headers.get("host", request.url.netloc)
    api_host = f"{host.rstrip('/')}/v1"
    document = {
        "integrations": {
            "Segment.io": {
                "apiKey": key_text,
                "apiHost": api_host,
                "protocol": protocol,
                "unbundledIntegrations": [],
                "addBundledMetadata": True,
                "maybeBundledConfigIds": {},
                "versionSettings": {"version": "4.4.7", "componentTypes": ["browser"]},
            }
        },
        "plan": {
            "track": {"__default": {"enabled": True, "integrations": {}}},
            "identify": {"__default": {"enabled": True}},
            "group": {"__default": {"enabled": True}},
        },
        "edgeFunction": {},
        "analyticsNextEnabled": True,
        "middlewareSettings": {},
        "enabledMiddleware": {},
        "metrics": {"sampleRate": 0},
        "legacyVideoPluginsEnabled": False,
        "remotePlugins": [],
    }
    return _json(200, document, {"Cache-Control": "public, max-age=300"})


async def health(request: Request) -> Response:
    return _json(200, {"status": "ok"})


async def ready(request: Request) -> Response:
    """Ready when the journal can take writes; the warehouse's state is reported alongside."""
    collector = _state(request)
    journal = collector.journal
    loader = collector.loader
    problems = []
    if journal.broken:
        problems.append(f"journal: {journal.broken}")
    if journal.over_budget():
        problems.append("journal: at its disk budget")
    if not os.access(journal.directory, os.W_OK):
        problems.append("journal: directory not writable")
    pending = loader.pending_bytes() if loader else 0
    metrics.JOURNAL_PENDING_BYTES.set(pending)
    body = {
        "status": "unavailable" if problems else "ok",
        "problems": problems,
        "journal_bytes": journal.disk_bytes,
        "journal_pending_bytes": pending,
        "warehouse": "failing" if loader and loader.failures else "ok",
        "warehouse_error": loader.last_error if loader else None,
    }
    if problems:
        return _json(503, body, {"Retry-After": RETRY_AFTER_UNAVAILABLE})
    return _json(200, body)


async def prometheus(request: Request) -> Response:
    collector = _state(request)
    if collector.loader is not None:
        metrics.JOURNAL_PENDING_BYTES.set(collector.loader.pending_bytes())
    return metrics_response()


def _route_label(path: str) -> str:
    """The path as a metric label and in logs: no write key, bounded cardinality."""
    if path.startswith("/v1/projects/"):
        return "/v1/projects/{writeKey}/settings"
    if path.startswith("/v1/pixel/"):
        return "/v1/pixel/" + path[len("/v1/pixel/") :][:10]
    if path.startswith("/v1/") and len(path) <= 13:
        return path
    if path in ("/health", "/ready", "/metrics", "/beacon/v1/batch"):
        return path
    return "other"


def create_app(
    target: WarehouseTarget | None = None,
    settings: CollectorSettings | None = None,
    *,
    key_ttl: float = 30.0,
) -> Starlette:
    """The ASGI app; `acd-warehouse collector` runs it with uvicorn (factory=True)."""
    collector = Collector(
        target or warehouse_target(), settings or collector_settings(), key_ttl=key_ttl
    )

    routes = [
        Route("/v1/pixel/{kind}", pixel, methods=["GET"]),
        Route("/v1/projects/{write_key}/settings", project_settings, methods=["GET"]),
        Route("/v1/{kind}", ingest, methods=["POST"]),
        Route("/beacon/v1/{kind}", ingest, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/ready", ready, methods=["GET"]),
        Route("/metrics", prometheus, methods=["GET"]),
    ]
    app = service_app(
        routes,
        start=collector.start,
        stop=collector.stop,
        logger=log,
        requests=metrics.REQUESTS,
        route_label=_route_label,
        # CORS for browsers: preflights answered, the request's origin mirrored on every
        # answer; which origins a key accepts is checked per request.
        cors=True,
    )
    app.state.collector = collector
    return app
