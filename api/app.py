"""The read API's routes (docs/API.md): the marts over HTTP, for keys scoped to a product and marts.

Every `/v1` request goes the same way, on the event loop (api/warehouse.py): open a warehouse
session (503 while the warehouse is busy), find the key by its hash (401) and, for a mart read,
the mart's last build in the same statement, take a token from its bucket (429), find the mart
(404) and check the key may read it (403), parse the query string against the mart's contract
(400 naming the parameter), answer 304 when `If-None-Match` holds this page's ETag, else answer
from the page cache when this ETag's page is in it (api/page_cache.py), else run one bound
statement that always carries the key's product condition. Then the request is added to the
audit log, whatever its status.

A mart read by a key this process has already found valid (`KnownKeys`) skips the lookup: its
page's statement also checks that the key is still unrevoked and the build still the one the
process knows, and only a page read that way is answered so; anything else (no row, a refusal,
a 304, a cached page) is done again the long way above.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import logging
import threading
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import orjson
from acd_analytics.warehouse_url import WarehouseTarget, parse_warehouse_url
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from api import metrics
from api.audit import AuditLog, AuditRow
from api.catalog import Catalog, Mart, load_catalog
from api.dashboard.page import render_sign_in
from api.dashboard.queries import InvalidFilters, SectionSpec
from api.dashboard.report import render_dashboard
from api.docs_page import DOCS_HTML
from api.keys import (
    KEY_PREFIX,
    KnownKeys,
    ReadKey,
    build_from_row,
    key_from_row,
    lookup_sql,
    still_valid_sql,
)
from api.openapi import openapi_document
from api.page_cache import CachedPage, PageCache
from api.query import (
    BadParameter,
    Page,
    api_form_rows,
    csv_value,
    cursor_after,
    json_page,
    json_value,
    json_values,
    ndjson_page,
    page_sql,
    parse_page,
)
from api.settings import ApiSettings, api_settings
from api.warehouse import BUSY_RETRY_AFTER, Reader, Session, WarehouseBusy, open_reader
from serving.app import service_app
from serving.errors import Refused, error, json_response
from serving.keys import bearer_token, hash_key
from serving.metrics import metrics_response
from serving.ratelimit import TokenBuckets, retry_after_header
from warehouse_db.connection import warehouse_target

log = logging.getLogger("acd.api")

CATALOG_CHECK_SECONDS = 5.0
NDJSON = "application/x-ndjson"
DASHBOARD_COOKIE = "acd_read_key"
SIGN_IN_MAX_BYTES = 4096


def _api_version() -> str:
    try:
        return version("acd-warehouse")
    except PackageNotFoundError:
        return "0"


# A mart's last build: (built_at, the dbt invocation id).
Build = tuple[Any, str]


@dataclass
class Outcome:
    response: Response
    key: ReadKey | None = None
    rows: int | None = None


# A condition with its parameters that a read by a known key adds to its statement.
Guard = tuple[str, list[Any]]

# What a request does once its key is known: (session, key, the build of the mart it named to
# `ReadApi.serve`, if any, the guard when the key and build are not looked up but known) -> its
# outcome. With a guard, it raises `NotVerified` for any answer but a page read with it.
Work = Callable[[Session, ReadKey, Build | None, Guard | None], Awaitable[Outcome]]


class NotVerified(Exception):
    """A read by a known key ended otherwise than in a page read with its guard."""


class ReadApi:
    """What one process serves from: settings, catalog, warehouse access, rate limits, audit."""

    def __init__(
        self,
        target: WarehouseTarget,
        settings: ApiSettings,
        *,
        manifest: Path | None = None,
        reader_target: WarehouseTarget | None = None,
    ) -> None:
        self.target = target
        # The two statements that check a key, made once (their marker is the backend's).
        self._lookup_sql = lookup_sql(target)
        self._still_valid_sql = still_valid_sql(target)
        self.settings = settings
        self.manifest = manifest
        self.reader_target = reader_target
        self.rates = TokenBuckets(settings.rate_limit, settings.rate_burst)
        self.pages = PageCache(settings.page_cache_bytes)
        self.known = KnownKeys()
        self.reader: Reader | None = None
        self.audit: AuditLog | None = None
        self._catalog: Catalog | None = None
        self._catalog_mtime = 0.0
        self._catalog_checked = 0.0
        self._catalog_lock = threading.Lock()
        self._openapi: tuple[Catalog, bytes] | None = None

    # -- life

    async def start(self) -> None:
        reader_target = await asyncio.to_thread(self._prepare)
        assert self.reader is not None
        await self.reader.open()
        log.info(
            "read API ready: warehouse %s as %s, %d marts",
            self.target.redacted(),
            reader_target.redacted(),
            len(self.catalog().marts),
        )

    def _prepare(self) -> WarehouseTarget:
        """The blocking part of `start`: the catalog, the reader's login, the audit log."""
        self.catalog()
        reader_target = self.reader_target or self._reader_target()
        self.reader = open_reader(
            reader_target,
            pool_size=self.settings.pool_size,
            statement_timeout_ms=self.settings.statement_timeout_ms,
        )
        self.audit = AuditLog(self.reader)
        self.audit.start()
        return reader_target

    async def stop(self) -> None:
        if self.audit is not None:
            await asyncio.to_thread(self.audit.stop)
        if self.reader is not None:
            await self.reader.close()

    def _reader_target(self) -> WarehouseTarget:
        if self.target.backend != "postgres":
            return self.target
        if self.settings.reader_url:
            return parse_warehouse_url(self.settings.reader_url)
        from warehouse_db.roles import create_api_role

        role = create_api_role(self.target, self.settings.statement_timeout_ms)
        return parse_warehouse_url(role.connection_url)

    def _checked_catalog(self) -> Catalog | None:
        """The catalog if its manifest was checked in the last few seconds."""
        if time.monotonic() - self._catalog_checked < CATALOG_CHECK_SECONDS:
            return self._catalog
        return None

    def catalog(self) -> Catalog:
        """The marts, re-read when the manifest changes (checked every few seconds)."""
        checked = self._checked_catalog()
        if checked is not None:
            return checked
        now = time.monotonic()
        with self._catalog_lock:
            path = self.manifest or _default_manifest()
            try:
                mtime = path.stat().st_mtime
            except OSError:
                mtime = 0.0
            if self._catalog is None or mtime != self._catalog_mtime:
                self._catalog = load_catalog(path)
                self._catalog_mtime = mtime
            self._catalog_checked = now
            return self._catalog

    async def fresh_catalog(self) -> Catalog:
        """`catalog()`, in a worker thread when a check is due (a re-read parses the manifest,
        which would hold the event loop)."""
        checked = self._checked_catalog()
        return checked if checked is not None else await asyncio.to_thread(self.catalog)

    def openapi(self) -> bytes:
        """`/openapi.json`: made once per catalog (a few milliseconds of work), not per request."""
        catalog = self.catalog()
        if self._openapi is None or self._openapi[0] is not catalog:
            self._openapi = (catalog, orjson.dumps(openapi_document(catalog, _api_version())))
        return self._openapi[1]

    # -- the steps of a request

    async def serve(self, token: str | None, work: Work, mart: str | None = None) -> Outcome:
        """Authenticate, rate-limit and run `work` in one warehouse session; `mart`'s last
        build comes with the key, in one statement, or, for a known key, is checked by the
        guard that `work` adds to its own statement."""
        assert self.reader is not None
        key: ReadKey | None = None
        try:
            await self.fresh_catalog()
            async with self.reader.session() as session:
                charged = False
                key_hash = _key_hash(token)
                known = self._known(key_hash, mart)
                if known is not None and self.rates.take(known[0].key_id) == 0:
                    charged = True
                    known_key, known_build, guard = known
                    try:
                        outcome = await work(session, known_key, known_build, guard)
                        outcome.key = known_key
                        return outcome
                    except (NotVerified, Refused):
                        pass  # done again below, the key looked up
                key, built = await self._key(session, token, key_hash, mart)
                wait = 0.0 if charged else self.rates.take(key.key_id)
                if wait > 0:
                    raise Refused(
                        429,
                        "rate_limited",
                        f"Authorization: more than {self.rates.rate:g} requests per second for this key",
                        {"Retry-After": retry_after_header(wait)},
                    )
                outcome = await work(session, key, built, None)
                outcome.key = key
                return outcome
        except Refused as exc:
            return Outcome(exc.response, key)
        except WarehouseBusy as exc:
            return Outcome(
                error(503, "unavailable", f"warehouse: {exc}", {"Retry-After": BUSY_RETRY_AFTER}),
                key,
            )

    def _known(self, key_hash: str | None, mart: str | None) -> tuple[ReadKey, Build, Guard] | None:
        """A known key with `mart`'s build as last seen, and the guard that checks both."""
        if mart is None or key_hash is None:
            return None
        known = self.known.get(key_hash, mart)
        if known is None:
            return None
        key, built = known
        return key, built, (self._still_valid_sql, [key_hash, mart, built[1]])

    async def _key(
        self, session: Session, token: str | None, key_hash: str | None, mart: str | None
    ) -> tuple[ReadKey, Build | None]:
        """The key of `token` (whose `_key_hash` is `key_hash`), looked up with `mart`'s build."""
        unauthorized = {"WWW-Authenticate": "Bearer"}
        if not token:
            raise Refused(
                401,
                "unauthorized",
                "Authorization: missing (send `Authorization: Bearer <key>`)",
                unauthorized,
            )
        found = built = None
        if key_hash is not None:
            rows = await session.rows(self._lookup_sql, [mart, key_hash])
            found = key_from_row(rows[0] if rows else None)
            built = build_from_row(rows[0] if rows else None)
        if found is None or key_hash is None:
            raise Refused(401, "unauthorized", "Authorization: unknown read key", unauthorized)
        if found.revoked:
            raise Refused(401, "unauthorized", "Authorization: this key was revoked", unauthorized)
        self.known.remember(key_hash, found, mart, built)
        return found, built

    def _mart(self, key: ReadKey, name: str) -> Mart:
        mart = self.catalog().get(name)
        if mart is None:
            raise Refused(404, "not_found", f"mart: no mart named {name[:64]!r} (see /v1/marts)")
        if not key.may_read(mart):
            raise Refused(403, "forbidden", f"mart: this key may not read {mart.name}")
        return mart

    async def list_marts(
        self, session: Session, key: ReadKey, built: Build | None, guard: Guard | None
    ) -> Outcome:
        rows = await session.rows("select mart, built_at, invocation_id from acd_mart_builds")
        builds = {row[0]: (row[1], row[2]) for row in rows}
        data = []
        for mart in (self.catalog().marts[name] for name in self.catalog().names()):
            if not key.may_read(mart):
                continue
            built = builds.get(mart.name)
            data.append(
                {
                    "name": mart.name,
                    "grain": mart.grain,
                    "description": mart.description,
                    "product_column": mart.product_column,
                    "columns": [
                        {
                            "name": column.name,
                            "type": column.data_type,
                            "description": column.description,
                            "filterable": column.comparable,
                        }
                        for column in mart.columns
                    ],
                    "built_at": json_value("timestamp", built[0]) if built else None,
                }
            )
        return Outcome(json_response(200, {"data": data}), rows=len(data))

    async def dashboard(
        self, session: Session, key: ReadKey, since: str | None, until: str | None
    ) -> Outcome:
        """The dashboard page for this key: its product only, and only the sections whose
        marts it may read (its queries run in a worker thread)."""
        catalog = self.catalog()

        def readable(spec: SectionSpec) -> bool:
            marts = [catalog.get(name) for name in spec.marts]
            return all(mart is not None and key.may_read(mart) for mart in marts)

        since_date, until_date = _dashboard_date("from", since), _dashboard_date("to", until)

        def render(connection: Any) -> str:
            return render_dashboard(
                connection, key.product, since_date, until_date, readable=readable
            )

        try:
            page = await session.blocking(render)
        except InvalidFilters as exc:
            raise Refused(400, "bad_parameter", f"from/to: {exc}") from None
        headers = {"Cache-Control": "private, no-store"}
        return Outcome(HTMLResponse(page, 200, headers))

    async def read_mart(
        self,
        session: Session,
        key: ReadKey,
        built: Build | None,
        guard: Guard | None,
        name: str,
        items: list[tuple[str, str]],
        if_none_match: str | None,
    ) -> Outcome:
        """A page of mart `name`; `built` is its last build (`serve(..., mart=name)`), as
        last seen when there is a `guard`."""
        mart = self._mart(key, name)
        try:
            page = parse_page(mart, items)
        except BadParameter as exc:
            raise Refused(400, "bad_parameter", str(exc)) from None
        built_at = json_value("timestamp", built[0]) if built else None
        headers = {"Cache-Control": "private, no-cache", "Vary": "Authorization"}
        etag = None
        if built is not None:
            etag = headers["ETag"] = _etag(mart.name, built[1], built_at, key, items)
            if if_none_match and _etag_matches(if_none_match, etag):
                if guard is not None:
                    raise NotVerified
                return Outcome(Response(status_code=304, headers=headers), rows=0)
        if built_at:
            headers["X-Built-At"] = built_at
        body = self.pages.get(etag) if etag else None
        if body is not None and guard is not None:
            raise NotVerified
        metrics.PAGE_CACHE.labels("miss" if body is None else "hit").inc()
        if body is None:
            body = await self._query_page(session, key, mart, page, built_at, guard)
            if etag:
                self.pages.put(etag, body)
        metrics.ROWS.labels(mart.name).inc(body.rows)
        return Outcome(_answer(body, headers), rows=body.rows)

    async def _query_page(
        self,
        session: Session,
        key: ReadKey,
        mart: Mart,
        page: Page,
        built_at: str | None,
        guard: Guard | None,
    ) -> CachedPage:
        """The page's body, from one statement that carries the key's product condition (and
        the `guard`, if any: no row raises NotVerified)."""
        assert self.reader is not None
        product_column = mart.product_column if key.product is not None else None
        started = time.perf_counter()
        # JSON pages: timestamps and decimals come as their API text, the other values are
        # written by msgspec as they come (api_form_rows). CSV: the values as stored.
        api_form = None if page.format == "csv" else self.reader.backend
        statement, params = page_sql(
            page, self.reader.marker, product_column, key.product, api_form=api_form, guard=guard
        )
        raw = await session.rows(statement, params)
        if guard is not None and not raw:
            raise NotVerified
        to_rows = json_values(page.output) if api_form is None else api_form_rows(page)
        rows = to_rows(raw[: page.limit])
        next_cursor = cursor_after(page, raw[page.limit - 1]) if len(raw) > page.limit else None
        body = _page_body(page, rows, next_cursor, built_at)
        metrics.QUERY_SECONDS.observe(time.perf_counter() - started)
        return body


def _key_hash(token: str | None) -> str | None:
    """The hash a read key is stored by; None for what cannot be one."""
    if not token or not token.startswith(KEY_PREFIX) or len(token) >= 200:
        return None
    return hash_key(token)


def _dashboard_date(name: str, value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Refused(
            400, "bad_parameter", f"{name}: not a date (YYYY-MM-DD): {value[:40]!r}"
        ) from None


def _default_manifest() -> Path:
    from orchestration.defs.dbt.project import ensure_manifest

    return ensure_manifest()


def _etag(
    mart: str, invocation_id: str, built_at: str | None, key: ReadKey, items: list[tuple[str, str]]
) -> str:
    """A strong ETag: the same build, product scope and query give the same bytes."""
    material = orjson.dumps([mart, invocation_id, built_at, key.product, sorted(items)])
    return '"' + hashlib.sha256(material).hexdigest()[:32] + '"'


def _etag_matches(header: str, etag: str) -> bool:
    candidates = [part.strip() for part in header.split(",")]
    return "*" in candidates or any(c.removeprefix("W/") == etag for c in candidates)


def _page_body(
    page: Page, rows: Sequence[Any], next_cursor: str | None, built_at: str | None
) -> CachedPage:
    """The page in its format: JSON and NDJSON of `api_form_rows`, CSV of `json_values`."""
    if page.format == "json":
        return CachedPage(json_page(rows, next_cursor, built_at), "application/json", len(rows), ())
    cursor_header = (("X-Next-Cursor", next_cursor),) if next_cursor else ()
    if page.format == "ndjson":
        return CachedPage(ndjson_page(rows), NDJSON, len(rows), cursor_header)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([column.name for column in page.output])
    writer.writerows([csv_value(value) for value in row] for row in rows)
    return CachedPage(out.getvalue().encode(), "text/csv", len(rows), cursor_header)


def _answer(page: CachedPage, headers: dict[str, str]) -> Response:
    return Response(page.body, 200, {**headers, **dict(page.headers)}, media_type=page.media_type)


def _state(request: Request) -> ReadApi:
    api: ReadApi = request.app.state.api
    return api


async def _audited(
    request: Request, work: Work, token: str | None = None, mart: str | None = None
) -> Response:
    api = _state(request)
    requested_at = datetime.now(UTC)
    started = time.perf_counter()
    token = token or bearer_token(request.headers.get("authorization"))
    try:
        outcome = await api.serve(token, work, mart)
    except Exception as exc:  # a bug: answer 500, log the type only (never the request)
        log.error("%s %s failed: %s", request.method, request.url.path, type(exc).__name__)
        outcome = Outcome(error(500, "internal", "the server failed: see its log"))
    duration_ms = (time.perf_counter() - started) * 1000
    if api.audit is not None:
        api.audit.add(
            AuditRow(
                key_id=outcome.key.key_id if outcome.key else None,
                key_name=outcome.key.name if outcome.key else None,
                method=request.method,
                path=request.url.path,
                query=request.url.query,
                status=outcome.response.status_code,
                rows_returned=outcome.rows,
                duration_ms=duration_ms,
                requested_at=requested_at,
            )
        )
    return outcome.response


async def list_marts(request: Request) -> Response:
    """GET /v1/marts: the marts this key may read."""
    return await _audited(request, _state(request).list_marts)


async def read_mart(request: Request) -> Response:
    """GET /v1/marts/{name}: a page of a mart's rows."""
    api = _state(request)
    name = request.path_params["name"]
    items = list(request.query_params.multi_items())
    if_none_match = request.headers.get("if-none-match")
    return await _audited(
        request,
        lambda session, key, built, guard: api.read_mart(
            session, key, built, guard, name, items, if_none_match
        ),
        mart=name,
    )


async def dashboard(request: Request) -> Response:
    """GET /dashboard: the dashboard for the key's product and marts (docs/API.md,
    Dashboard); the key comes as a Bearer header or the cookie the sign-in form sets.
    POST /dashboard: the sign-in form; a valid key is kept in an HttpOnly cookie."""
    api = _state(request)
    token: str | None
    if request.method == "POST":
        body = await request.body()
        if len(body) > SIGN_IN_MAX_BYTES:
            return error(400, "bad_parameter", "key: the sign-in form is too large")
        token = urllib.parse.parse_qs(body.decode(errors="replace")).get("key", [""])[0].strip()
    else:
        token = bearer_token(request.headers.get("authorization")) or request.cookies.get(
            DASHBOARD_COOKIE
        )
    if not token:
        return HTMLResponse(render_sign_in("Sign in with a read API key."), 401)
    params = request.query_params
    response = await _audited(
        request,
        lambda session, key, *_: api.dashboard(session, key, params.get("from"), params.get("to")),
        token,
    )
    if response.status_code == 401:
        signed_out = HTMLResponse(render_sign_in("That key is unknown or revoked."), 401)
        signed_out.delete_cookie(DASHBOARD_COOKIE, path="/dashboard")
        return signed_out
    if request.method == "POST" and response.status_code == 200:
        back = RedirectResponse("/dashboard", 303)
        back.set_cookie(
            DASHBOARD_COOKIE, token, path="/dashboard", httponly=True, samesite="strict"
        )
        return back
    return response


async def openapi(request: Request) -> Response:
    return Response(_state(request).openapi(), 200, media_type="application/json")


async def docs(request: Request) -> Response:
    return HTMLResponse(DOCS_HTML)


async def health(request: Request) -> Response:
    return json_response(200, {"status": "ok"})


async def prometheus(request: Request) -> Response:
    return metrics_response()


def _route_label(path: str) -> str:
    if path.startswith("/v1/marts/"):
        return "/v1/marts/{name}"
    if path in ("/v1/marts", "/health", "/metrics", "/openapi.json", "/docs", "/dashboard"):
        return path
    return "other"


def create_app(
    target: WarehouseTarget | None = None,
    settings: ApiSettings | None = None,
    *,
    manifest: Path | None = None,
    reader_target: WarehouseTarget | None = None,
) -> Starlette:
    """The ASGI app; `acd-warehouse api` runs it with uvicorn (factory=True)."""
    settings = settings or api_settings()
    api = ReadApi(
        target or warehouse_target(),
        settings,
        manifest=manifest or settings.manifest,
        reader_target=reader_target,
    )

    routes = [
        Route("/v1/marts", list_marts, methods=["GET"]),
        Route("/v1/marts/{name}", read_mart, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        Route("/dashboard", dashboard, methods=["GET", "POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/metrics", prometheus, methods=["GET"]),
    ]
    app = service_app(
        routes,
        start=api.start,
        stop=api.stop,
        logger=log,
        requests=metrics.REQUESTS,
        route_label=_route_label,
    )
    app.state.api = api
    return app
