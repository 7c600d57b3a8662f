"""The least an HTTP API over PostgreSQL does for one page: `bench/api_latency.py`'s bare pass.

A raw ASGI app (no Starlette, no key, rate limit, audit, ETag or metrics) that answers every
GET with one page: the statement `acd-warehouse api` runs for it (`api.query.page_sql` with the
API's text for timestamps and decimals), on an asyncio psycopg pool of the API's size, its rows
written by the API's own `api_form_rows` and `json_page`. Under uvicorn with the API's options,
its rate is the ceiling of an API on this stack and machine: what the API's rate lacks of it is
the API's own work, what it lacks of the direct rate is HTTP and asyncio.

    .venv/bin/python -m uvicorn --app-dir bench --factory api_bare:create_app

reads the page from the environment: `ACD_BARE_URL` (a PostgreSQL warehouse URL),
`ACD_BARE_MANIFEST` (the dbt manifest), `ACD_BARE_MART`, `ACD_BARE_QUERY` (the page's query
string) and `ACD_BARE_PRODUCT` (a product key's product; empty for an analyst's page); its pool
has the API's size (`api.settings`: `ACD_API_POOL_SIZE`, else the API's default).
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from acd_analytics.warehouse_url import parse_warehouse_url
from psycopg_pool import AsyncConnectionPool

from api.catalog import load_catalog
from api.query import Page, api_form_rows, json_page, page_sql, parse_page
from api.settings import api_settings

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
HEADERS = [(b"content-type", b"application/json")]


def page_query(
    manifest: Path,
    mart_name: str,
    query: Sequence[tuple[str, str]],
    product: str | None,
    marker: str,
    api_form: str | None,
) -> tuple[str, list[Any], Page]:
    """The statement, parameters and parsed page of a page of `mart_name` read with a key of
    `product` (None: an analyst's), as `api.query.page_sql` makes them (`api_form`: the
    backend, for the statement the API runs for a JSON page; None: the plain one)."""
    mart = load_catalog(manifest).marts[mart_name]
    page = parse_page(mart, query)
    product_column = mart.product_column if product is not None else None
    statement, params = page_sql(page, marker, product_column, product, api_form=api_form)
    return statement, params, page


def create_app() -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    env = os.environ
    target = parse_warehouse_url(env["ACD_BARE_URL"])
    statement, params, page = page_query(
        Path(env["ACD_BARE_MANIFEST"]),
        env["ACD_BARE_MART"],
        urllib.parse.parse_qsl(env["ACD_BARE_QUERY"]),
        env.get("ACD_BARE_PRODUCT") or None,
        "%s",
        "postgres",
    )
    to_rows = api_form_rows(page)
    pool = AsyncConnectionPool(
        target.postgres_conninfo or "",
        min_size=1,
        max_size=api_settings().pool_size,
        open=False,
        kwargs={"autocommit": True},
    )

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await pool.open()
                await send({"type": "lifespan.startup.complete"})
            await pool.close()
            await send({"type": "lifespan.shutdown.complete"})
            return
        async with pool.connection() as conn:
            raw = await (await conn.execute(statement, params)).fetchall()
        body = json_page(to_rows(raw[: page.limit]), None, None)
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        await send({"type": "http.response.body", "body": body})

    return app
