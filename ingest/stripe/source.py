"""Stripe source: `ingest_stripe` keeps `raw_stripe` in step with the account.

First run (or when the events cursor is older than Stripe's 30-day event retention): note
the newest event as the baseline, then list every object of each stream (products, prices,
customers, subscriptions with their items, invoices with their lines, charges, refunds),
newest first with `starting_after`; each page, its nested items/lines (paged separately
when the embedded list `has_more`) and the stream's progress commit in one transaction,
so a crash resumes at the next page. The full sync ends by saving the baseline as the
events cursor.

Every run then reads `/v1/events` created since the cursor and applies them oldest first,
upserting the object each carries in `data.object` (merge key: the object id) with the
event itself and the advanced cursor in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe

from ingest._common.clock import Clock, SystemClock
from ingest._common.errors import MalformedPage
from ingest._common.http import RetryPolicy
from ingest._common.results import Progress, StreamResult, no_progress
from ingest._common.validate import require
from ingest.stripe.client import StripeApi
from ingest.stripe.settings import (
    EVENT_RETENTION_DAYS,
    EVENTS_STREAM,
    FULL_SYNC_STREAM,
    OBJECT_TABLES,
    STREAMS,
    StripeConfig,
)
from warehouse_db.raw_load import RawWriter

SCHEMA = "raw_stripe"
DONE = "done"
Rows = dict[str, list[dict[str, Any]]]  # raw table -> rows
FetchPage = Callable[[dict[str, Any], str], dict[str, Any]]  # (params, page name) -> list


def _created(obj: dict[str, Any], page: str, path: str) -> datetime | None:
    value = obj.get("created")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedPage(page, f"{path}.created", "should be epoch seconds (an integer)")
    return datetime.fromtimestamp(value, UTC)


def _object_row(obj: dict[str, Any], page: str, path: str) -> dict[str, Any]:
    return {"id": obj["id"], "created": _created(obj, page, path), "payload": obj}


class StripeSync:
    def __init__(
        self,
        api: StripeApi,
        writer: RawWriter,
        clock: Clock,
        progress: Progress,
    ) -> None:
        self.api = api
        self.writer = writer
        self.clock = clock
        self.progress = progress
        self.account = api.config.account_id
        self.limit = api.config.page_limit

    # -- nested lists ---------------------------------------------------------------------

    def _nested(
        self, embedded: Any, page: str, path: str, fetch: FetchPage
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Items of an embedded list; when it is truncated (`has_more`), the full list."""
        if embedded is None:
            return
        if not isinstance(embedded, dict) or not isinstance(embedded.get("data"), list):
            raise MalformedPage(page, f"{path}.data", "should be a list")
        if not embedded.get("has_more"):
            for index, item in enumerate(embedded["data"]):
                if not isinstance(item, dict):
                    raise MalformedPage(page, f"{path}.data[{index}]", "is not an object")
                yield f"{path}.data[{index}]", item
            return
        params: dict[str, Any] = {"limit": self.limit}
        number = 0
        while True:
            number += 1
            nested_page = f"{page} {path} page {number}"
            body = fetch(params, nested_page)
            for index, item in enumerate(body["data"]):
                yield f"data[{index}]", item
            if not body["has_more"] or not body["data"]:
                return
            params = {**params, "starting_after": body["data"][-1]["id"]}

    def children(self, obj: dict[str, Any], page: str, path: str) -> Rows:
        """Subscription items and invoice lines as rows of their own tables."""
        rows: Rows = {}
        kind = obj.get("object")
        if kind == "subscription":

            def fetch(params: dict[str, Any], name: str) -> dict[str, Any]:
                return self.api.subscription_items_page({**params, "subscription": obj["id"]}, name)

            rows["subscription_items"] = [
                {
                    "id": require(item, "id", str, page, where),
                    "subscription_id": obj["id"],
                    "created": _created(item, page, where),
                    "payload": item,
                }
                for where, item in self._nested(obj.get("items"), page, f"{path}.items", fetch)
            ]
        elif kind == "invoice" and obj.get("id"):

            def fetch(params: dict[str, Any], name: str) -> dict[str, Any]:
                return self.api.invoice_lines_page(obj["id"], params, name)

            rows["invoice_line_items"] = [
                {
                    "id": require(item, "id", str, page, where),
                    "invoice_id": obj["id"],
                    "payload": item,
                }
                for where, item in self._nested(obj.get("lines"), page, f"{path}.lines", fetch)
            ]
        return rows

    def _write(self, rows: Rows) -> int:
        written = 0
        for table, table_rows in rows.items():
            if table_rows:
                written += self.writer.upsert(SCHEMA, table, table_rows, account_id=self.account)
        return written

    # -- cursors --------------------------------------------------------------------------

    def _read_json(self, stream: str) -> Any:
        value = self.writer.read_cursor(SCHEMA, stream, self.account)
        return None if value is None else json.loads(value)

    def _save_json(self, stream: str, value: Any) -> None:
        self.writer.save_cursor(SCHEMA, stream, self.account, json.dumps(value, sort_keys=True))

    def _expired(self, cursor: dict[str, Any]) -> bool:
        margin = timedelta(hours=self.api.config.retention_margin_hours)
        oldest = self.clock.now() - timedelta(days=EVENT_RETENTION_DAYS) + margin
        return datetime.fromtimestamp(int(cursor["created"]), UTC) < oldest

    def _baseline(self) -> dict[str, Any]:
        """The events cursor a full sync starting now hands over to incremental runs."""
        body = self.api.list_page("events", {"limit": 1}, "stripe events baseline")
        if body["data"]:
            newest = body["data"][0]
            created = require(newest, "created", int, "stripe events baseline", "data[0]")
            return {"created": created, "ids": [newest["id"]]}
        return {"created": int(self.clock.now().timestamp()), "ids": []}

    # -- full sync ------------------------------------------------------------------------

    def full_sync(self) -> list[StreamResult]:
        state = self._read_json(FULL_SYNC_STREAM)
        if state is None:
            state = {"baseline": self._baseline()}
            with self.writer.transaction():
                for stream in STREAMS:
                    self.writer.delete_cursor(SCHEMA, f"{FULL_SYNC_STREAM}:{stream}", self.account)
                self._save_json(FULL_SYNC_STREAM, state)
        results = [self._sync_stream(stream, params) for stream, params in STREAMS.items()]
        with self.writer.transaction():
            self._save_json(EVENTS_STREAM, state["baseline"])
            for stream in [FULL_SYNC_STREAM, *(f"{FULL_SYNC_STREAM}:{s}" for s in STREAMS)]:
                self.writer.delete_cursor(SCHEMA, stream, self.account)
        return results

    def _sync_stream(self, stream: str, extra: dict[str, str]) -> StreamResult:
        result = StreamResult(stream, self.account)
        progress_stream = f"{FULL_SYNC_STREAM}:{stream}"
        last = self.writer.read_cursor(SCHEMA, progress_stream, self.account)
        while last != DONE:
            params: dict[str, Any] = {"limit": self.limit, **extra}
            if last:
                params["starting_after"] = last
            page = f"stripe {stream} page {result.pages + 1}"
            body = self.api.list_page(stream, params, page)
            rows: Rows = {stream: []}
            for index, obj in enumerate(body["data"]):
                rows[stream].append(_object_row(obj, page, f"data[{index}]"))
                for table, child_rows in self.children(obj, page, f"data[{index}]").items():
                    rows.setdefault(table, []).extend(child_rows)
            last = body["data"][-1]["id"] if body["has_more"] and body["data"] else DONE
            with self.writer.transaction():
                result.written += self._write(rows)
                self.writer.save_cursor(SCHEMA, progress_stream, self.account, last)
            result.pages += 1
            result.rows += len(body["data"])
        self.progress(f"stripe {stream}: {result.rows} objects")
        return result

    # -- events ---------------------------------------------------------------------------

    def apply_events(self) -> StreamResult:
        result = StreamResult(EVENTS_STREAM, self.account)
        cursor = self._read_json(EVENTS_STREAM)
        seen = set(cursor["ids"])
        # created[gt] one second earlier = created >= cursor: events sharing the cursor's
        # second are not missed; those already applied are skipped by id.
        params: dict[str, Any] = {
            "limit": self.limit,
            "created": {"gt": int(cursor["created"]) - 1},
        }
        events: list[tuple[str, dict[str, Any]]] = []
        while True:
            page = f"stripe events page {result.pages + 1}"
            body = self.api.list_page("events", params, page)
            result.pages += 1
            for index, event in enumerate(body["data"]):
                if event["id"] not in seen:
                    events.append((f"{page} data[{index}]", event))
            if not body["has_more"] or not body["data"]:
                break
            params = {**params, "starting_after": body["data"][-1]["id"]}
        events.reverse()  # the API lists newest first; apply oldest first
        for start in range(0, len(events), self.limit):
            chunk = events[start : start + self.limit]
            rows: Rows = {"events": []}
            for where, event in chunk:
                created = _created(event, where, "event")
                if created is None:
                    raise MalformedPage(where, "created", "is missing")
                obj = require(require(event, "data", dict, where), "object", dict, where, "data")
                require(obj, "id", str, where, "data.object")
                rows["events"].append({"id": event["id"], "created": created, "payload": event})
                table = OBJECT_TABLES.get(str(obj.get("object")))
                if table is None:
                    continue
                rows.setdefault(table, []).append(_object_row(obj, where, "data.object"))
                for child, child_rows in self.children(obj, where, "data.object").items():
                    rows.setdefault(child, []).extend(child_rows)
            newest = chunk[-1][1]["created"]
            ids = [e["id"] for _, e in chunk if e["created"] == newest]
            if newest == cursor["created"]:
                ids = [*cursor["ids"], *ids]
            cursor = {"created": newest, "ids": sorted(set(ids))}
            with self.writer.transaction():
                result.written += self._write(rows)
                self._save_json(EVENTS_STREAM, cursor)
            result.rows += len(chunk)
        self.progress(f"stripe events: {result.rows} new events applied")
        return result

    def run(self) -> list[StreamResult]:
        results: list[StreamResult] = []
        cursor = self._read_json(EVENTS_STREAM)
        resuming = self._read_json(FULL_SYNC_STREAM) is not None
        if resuming or cursor is None or self._expired(cursor):
            if cursor is not None and not resuming:
                self.progress("stripe: events cursor is older than 30 days: full re-sync")
            results += self.full_sync()
        results.append(self.apply_events())
        return results


def ingest_stripe(
    config: StripeConfig,
    writer: RawWriter,
    *,
    clock: Clock | None = None,
    retry: RetryPolicy | None = None,
    http_client: stripe.HTTPClient | None = None,
    progress: Progress = no_progress,
) -> list[StreamResult]:
    """Full sync on the first run (or after the event retention lapsed), then events."""
    clock = clock or SystemClock()
    api = StripeApi(config, clock=clock, retry=retry, http_client=http_client)
    return StripeSync(api, writer, clock, progress).run()
