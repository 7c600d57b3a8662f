"""TikTok source: `ingest_tiktok` pulls ad reports, ads and organic video snapshots.

Reports (`raw_tiktok.ad_reports`, merge key ad_id + stat_time_day): from the day after the
cursor, or the start of the 7-day restatement lookback if earlier, in windows of at most 30
days; each window is validated whole and loaded in one transaction that upserts it, deletes
rows the API no longer returns for that window, and saves the cursor.
Ads (`raw_tiktok.ads`): every observed (modify_time, operation_status) version, per page.
Videos (`raw_tiktok.video_snapshots`): one snapshot of every video's counters per run,
stamped with the run's fetch time.
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
from ingest.tiktok.client import TikTokBusinessClient, TikTokDisplayClient
from ingest.tiktok.settings import (
    ADS_PATH,
    ADS_STREAM,
    MAX_REPORT_DAYS,
    REPORT_DIMENSIONS,
    REPORT_METRICS,
    REPORT_PATH,
    REPORTS_STREAM,
    VIDEO_FIELDS,
    VIDEOS_STREAM,
    TikTokConfig,
)
from warehouse_db.raw_load import RawWriter, ReplaceWindow

SCHEMA = "raw_tiktok"
DISPLAY_ACCOUNT = "display"


def _items(data: Any, page: str) -> list[tuple[str, dict[str, Any]]]:
    items = require(data, "list", list, page, "data")
    out = []
    for index, item in enumerate(items):
        path = f"data.list[{index}]"
        if not isinstance(item, dict):
            raise MalformedPage(page, path, "is not an object")
        out.append((path, item))
    return out


def report_rows(data: Any, page: str, advertiser: str) -> list[dict[str, Any]]:
    rows = []
    for path, item in _items(data, page):
        dims = require(item, "dimensions", dict, page, path)
        require(item, "metrics", dict, page, path)
        day = require(dims, "stat_time_day", str, page, f"{path}.dimensions")
        rows.append(
            {
                "ad_id": require_id(dims, "ad_id", page, f"{path}.dimensions"),
                # "YYYY-MM-DD 00:00:00" in the advertiser's zone: the date is the key
                "stat_time_day": parse_date(day, page, f"{path}.dimensions.stat_time_day"),
                "advertiser_id": advertiser,
                "payload": item,
            }
        )
    return rows


def ad_rows(data: Any, page: str, advertiser: str) -> list[dict[str, Any]]:
    rows = []
    for path, item in _items(data, page):
        modified = require(item, "modify_time", str, page, path)
        rows.append(
            {
                "ad_id": require_id(item, "ad_id", page, path),
                "modify_time": parse_timestamp(
                    modified, page, f"{path}.modify_time", naive_ok=True
                ),
                "operation_status": require(item, "operation_status", str, page, path),
                "advertiser_id": str(item.get("advertiser_id") or advertiser),
                "payload": item,
            }
        )
    return rows


def video_rows(data: Any, page: str, fetched_at: Any) -> list[dict[str, Any]]:
    videos = require(data, "videos", list, page, "data")
    rows = []
    for index, video in enumerate(videos):
        path = f"data.videos[{index}]"
        require(video, "view_count", int, page, path)
        rows.append(
            {
                "video_id": require_id(video, "id", page, path),
                "fetched_at": fetched_at,
                "payload": video,
            }
        )
    return rows


def _load_report_window(
    client: TikTokBusinessClient,
    writer: RawWriter,
    advertiser: str,
    window: DateWindow,
    result: StreamResult,
) -> None:
    params = {
        "advertiser_id": advertiser,
        "report_type": "BASIC",
        "data_level": "AUCTION_AD",
        "dimensions": json.dumps(list(REPORT_DIMENSIONS)),
        "metrics": json.dumps(list(REPORT_METRICS)),
        "start_date": window.since.isoformat(),
        "end_date": window.until.isoformat(),
        "page_size": client.config.page_size,
    }
    rows: list[dict[str, Any]] = []
    for page, data in client.pages(REPORT_PATH, params, f"tiktok report {advertiser} {window}"):
        page_rows = report_rows(data, page, advertiser)
        for row in page_rows:
            if not window.since <= row["stat_time_day"] <= window.until:
                raise MalformedPage(
                    page, "stat_time_day", f"{row['stat_time_day']} is outside {window}"
                )
        rows.extend(page_rows)
        result.pages += 1
    previous = writer.read_cursor(SCHEMA, REPORTS_STREAM, advertiser)
    with writer.transaction():
        result.written += writer.upsert(
            SCHEMA,
            "ad_reports",
            rows,
            account_id=advertiser,
            replace=ReplaceWindow("stat_time_day", window.since, window.until),
        )
        writer.save_cursor(
            SCHEMA, REPORTS_STREAM, advertiser, max(window.until.isoformat(), previous or "")
        )
    result.rows += len(rows)


def ingest_tiktok_reports(
    client: TikTokBusinessClient,
    writer: RawWriter,
    advertiser: str,
    *,
    today: date,
    start: date | None = None,
    end: date | None = None,
    progress: Progress = no_progress,
) -> StreamResult:
    config = client.config
    result = StreamResult(REPORTS_STREAM, advertiser)
    saved = writer.read_cursor(SCHEMA, REPORTS_STREAM, advertiser)
    span = sync_range(
        today=today,
        cursor=date.fromisoformat(saved) if saved else None,
        lookback_days=config.lookback_days,
        initial_days=config.initial_days,
        start=start,
        end=end,
    )
    if span is None:
        return result
    for window in split_windows(span, min(config.window_days, MAX_REPORT_DAYS)):
        _load_report_window(client, writer, advertiser, window, result)
        progress(f"tiktok report {advertiser} {window}: {result.rows} rows so far")
    return result


def ingest_tiktok_ads(
    client: TikTokBusinessClient,
    writer: RawWriter,
    advertiser: str,
    *,
    progress: Progress = no_progress,
) -> StreamResult:
    params = {"advertiser_id": advertiser, "page_size": client.config.page_size}
    result = upsert_each_page(
        StreamResult(ADS_STREAM, advertiser),
        client.pages(ADS_PATH, params, f"tiktok ads {advertiser}"),
        lambda data, page: ad_rows(data, page, advertiser),
        writer,
        (SCHEMA, "ads"),
    )
    progress(f"tiktok ads {advertiser}: {result.rows} ads")
    return result


def ingest_tiktok_videos(
    client: TikTokDisplayClient,
    writer: RawWriter,
    *,
    fetched_at: Any,
    progress: Progress = no_progress,
) -> StreamResult:
    result = upsert_each_page(
        StreamResult(VIDEOS_STREAM, DISPLAY_ACCOUNT),
        client.video_pages(VIDEO_FIELDS, "tiktok videos"),
        lambda data, page: video_rows(data, page, fetched_at),
        writer,
        (SCHEMA, "video_snapshots"),
    )
    progress(f"tiktok videos: {result.rows} video snapshots")
    return result


STREAMS = (REPORTS_STREAM, ADS_STREAM, VIDEOS_STREAM)


def ingest_tiktok(
    config: TikTokConfig,
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
    """Pull `streams` (reports, ads of every advertiser; the videos when a Display token is
    set; default all) into `raw_tiktok`: the one entry point of the command line and the
    Dagster assets."""
    unknown = set(streams) - set(STREAMS)
    if unknown:
        raise ValueError(f"unknown TikTok streams {sorted(unknown)}: use {', '.join(STREAMS)}")
    clock = clock or SystemClock()
    results = []
    if REPORTS_STREAM in streams or ADS_STREAM in streams:
        client = TikTokBusinessClient(config, clock=clock, transport=transport, retry=retry)
        try:
            for advertiser in config.advertiser_ids:
                if REPORTS_STREAM in streams:
                    results.append(
                        ingest_tiktok_reports(
                            client,
                            writer,
                            advertiser,
                            today=clock.now().date(),
                            start=start,
                            end=end,
                            progress=progress,
                        )
                    )
                if ADS_STREAM in streams:
                    results.append(ingest_tiktok_ads(client, writer, advertiser, progress=progress))
        finally:
            client.close()
    if VIDEOS_STREAM in streams and config.display_access_token is not None:
        display = TikTokDisplayClient(
            config,
            config.display_access_token.reveal(),
            clock=clock,
            transport=transport,
            retry=retry,
        )
        try:
            results.append(
                ingest_tiktok_videos(display, writer, fetched_at=clock.now(), progress=progress)
            )
        finally:
            display.close()
    return results
