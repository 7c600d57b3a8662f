"""Meta source: `ingest_meta` pulls ad insights and ads of every configured ad account.

Insights (`raw_meta.ads_insights`, merge key ad_id + date_start): each run pulls from the
day after the saved cursor, or the start of the restatement lookback (28 days) if earlier,
up to today, in windows of `window_days`. A window's pages are validated, then loaded in one
transaction that upserts them, deletes rows of that window the API no longer returns, and
saves the cursor, so restated numbers land exactly once and a crash resumes cleanly.

Ads (`raw_meta.ads`, merge key ad_id + updated_time + effective_status): the full list,
deleted and archived included, each page in its own transaction; a new status or edit is a
new row, so the status history keeps every observed version.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import date
from typing import Any

import httpx

from ingest._common.clock import Clock, SystemClock
from ingest._common.errors import MalformedPage
from ingest._common.http import RetryPolicy
from ingest._common.results import Progress, StreamResult, no_progress, upsert_each_page
from ingest._common.validate import parse_date, parse_timestamp, require, require_id
from ingest._common.windows import DateWindow, split_windows, sync_range
from ingest.meta.client import MetaClient
from ingest.meta.settings import (
    AD_FIELDS,
    ADS_PATH,
    ADS_STREAM,
    EFFECTIVE_STATUSES,
    INSIGHTS_FIELDS,
    INSIGHTS_LISTS,
    INSIGHTS_NUMBERS,
    INSIGHTS_PATH,
    INSIGHTS_STREAM,
    MetaConfig,
)
from warehouse_db.raw_load import RawWriter, ReplaceWindow

SCHEMA = "raw_meta"


def account_key(account_id: str) -> str:
    """Ad accounts are addressed as `act_<id>`; accept the bare id too."""
    account_id = account_id.strip()
    return account_id if account_id.startswith("act_") else f"act_{account_id}"


def _filtering() -> str:
    return json.dumps(
        [{"field": "ad.effective_status", "operator": "IN", "value": list(EFFECTIVE_STATUSES)}]
    )


def insights_rows(body: Any, page: str) -> list[dict[str, Any]]:
    """Validate an insights page and turn it into raw rows (numbers stay strings)."""
    data = require(body, "data", list, page)
    rows = []
    for index, item in enumerate(data):
        path = f"data[{index}]"
        if not isinstance(item, dict):
            raise MalformedPage(page, path, "is not an object")
        ad_id = require_id(item, "ad_id", page, path)
        day = parse_date(require(item, "date_start", str, page, path), page, f"{path}.date_start")
        account = require_id(item, "account_id", page, path)
        for field in INSIGHTS_NUMBERS:
            if field in item and not isinstance(item[field], str | int | float):
                raise MalformedPage(page, f"{path}.{field}", "should be a number string")
        for field in INSIGHTS_LISTS:
            if field in item and not isinstance(item[field], list):
                raise MalformedPage(page, f"{path}.{field}", "should be a list")
        rows.append({"ad_id": ad_id, "date_start": day, "account_id": account, "payload": item})
    return rows


def ad_rows(body: Any, page: str, account: str) -> list[dict[str, Any]]:
    data = require(body, "data", list, page)
    rows = []
    for index, item in enumerate(data):
        path = f"data[{index}]"
        if not isinstance(item, dict):
            raise MalformedPage(page, path, "is not an object")
        updated = require(item, "updated_time", str, page, path)
        rows.append(
            {
                "ad_id": require_id(item, "id", page, path),
                "updated_time": parse_timestamp(updated, page, f"{path}.updated_time"),
                "effective_status": require(item, "effective_status", str, page, path),
                "account_id": str(item.get("account_id") or account.removeprefix("act_")),
                "payload": item,
            }
        )
    return rows


def _load_insights_window(
    client: MetaClient,
    writer: RawWriter,
    account: str,
    window: DateWindow,
    result: StreamResult,
) -> None:
    params = {
        "level": "ad",
        "time_increment": 1,
        "time_range": json.dumps(
            {"since": window.since.isoformat(), "until": window.until.isoformat()}
        ),
        "fields": ",".join(INSIGHTS_FIELDS),
        "limit": client.config.page_limit,
        "filtering": _filtering(),
    }
    rows: list[dict[str, Any]] = []
    what = f"meta insights {account} {window}"
    for page, body in client.pages(INSIGHTS_PATH.format(account=account), params, what):
        page_rows = insights_rows(body, page)
        for row in page_rows:
            if not window.since <= row["date_start"] <= window.until:
                raise MalformedPage(page, "date_start", f"{row['date_start']} is outside {window}")
        rows.extend(page_rows)
        result.pages += 1
    previous = writer.read_cursor(SCHEMA, INSIGHTS_STREAM, account)
    cursor = max(window.until.isoformat(), previous or "")
    with writer.transaction():
        result.written += writer.upsert(
            SCHEMA,
            "ads_insights",
            rows,
            account_id=account,
            replace=ReplaceWindow("date_start", window.since, window.until),
        )
        writer.save_cursor(SCHEMA, INSIGHTS_STREAM, account, cursor)
    result.rows += len(rows)


def ingest_meta_insights(
    client: MetaClient,
    writer: RawWriter,
    account: str,
    *,
    start: date | None = None,
    end: date | None = None,
    progress: Progress = no_progress,
) -> StreamResult:
    config = client.config
    result = StreamResult(INSIGHTS_STREAM, account)
    saved = writer.read_cursor(SCHEMA, INSIGHTS_STREAM, account)
    span = sync_range(
        today=client.clock.now().date(),
        cursor=date.fromisoformat(saved) if saved else None,
        lookback_days=config.lookback_days,
        initial_days=config.initial_days,
        start=start,
        end=end,
    )
    if span is None:
        return result
    for window in split_windows(span, config.window_days):
        _load_insights_window(client, writer, account, window, result)
        progress(f"meta insights {account} {window}: {result.rows} rows so far")
    return result


def ingest_meta_ads(
    client: MetaClient, writer: RawWriter, account: str, *, progress: Progress = no_progress
) -> StreamResult:
    params = {"fields": AD_FIELDS, "limit": client.config.page_limit, "filtering": _filtering()}
    result = upsert_each_page(
        StreamResult(ADS_STREAM, account),
        client.pages(ADS_PATH.format(account=account), params, f"meta ads {account}"),
        lambda body, page: ad_rows(body, page, account),
        writer,
        (SCHEMA, "ads"),
    )
    progress(f"meta ads {account}: {result.rows} ads")
    return result


STREAMS = (INSIGHTS_STREAM, ADS_STREAM)


def ingest_meta(
    config: MetaConfig,
    writer: RawWriter,
    *,
    streams: Collection[str] = STREAMS,
    start: date | None = None,
    end: date | None = None,
    clock: Clock | None = None,
    transport: httpx.BaseTransport | None = None,
    retry: RetryPolicy | None = None,
    progress: Progress = no_progress,
) -> list[StreamResult]:
    """Pull `streams` (insights, ads; default both) of every account in `config` into
    `raw_meta`: the one entry point of the command line and the Dagster assets."""
    unknown = set(streams) - set(STREAMS)
    if unknown:
        raise ValueError(f"unknown Meta streams {sorted(unknown)}: use {', '.join(STREAMS)}")
    client = MetaClient(config, clock=clock or SystemClock(), transport=transport, retry=retry)
    results = []
    try:
        for raw_account in config.ad_account_ids:
            account = account_key(raw_account)
            if INSIGHTS_STREAM in streams:
                results.append(
                    ingest_meta_insights(
                        client, writer, account, start=start, end=end, progress=progress
                    )
                )
            if ADS_STREAM in streams:
                results.append(ingest_meta_ads(client, writer, account, progress=progress))
    finally:
        client.close()
    return results
