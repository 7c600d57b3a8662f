"""Local fake APIs (httpx transports) that answer like the real ones (tests/fixtures),
a fake clock that records waits instead of sleeping, and raw-table snapshots."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
from acd_analytics.warehouse_url import WarehouseTarget

from warehouse_db.connection import connect
from warehouse_db.raw_schema import RAW_TABLES

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


class FakeClock:
    """`now()` is fixed unless advanced; `sleep()` records the wait and advances time."""

    def __init__(self, now: datetime = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)) -> None:
        self.current = now
        self.mono = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.current

    def monotonic(self) -> float:
        return self.mono

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.mono += seconds
        self.current += timedelta(seconds=seconds)


Fault = Callable[[httpx.Request], httpx.Response]


class FakeApi:
    """Base: counts requests, and serves a fault instead of the answer on chosen calls."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.faults: dict[int, Fault] = {}  # 1-based request number -> fault

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        fault = self.faults.pop(len(self.requests), None)
        if fault is not None:
            return fault(request)
        return self.answer(request)

    def answer(self, request: httpx.Request) -> httpx.Response:
        raise NotImplementedError


def crash(request: httpx.Request) -> httpx.Response:
    raise RuntimeError("injected crash")


def status(code: int, body: Any = None, headers: dict[str, str] | None = None) -> Fault:
    def fault(request: httpx.Request) -> httpx.Response:
        return httpx.Response(code, json=body if body is not None else {}, headers=headers)

    return fault


# -- Meta ---------------------------------------------------------------------------------

META_TEMPLATE = fixture("meta/insights_page1.json")["data"][0]
META_AD_TEMPLATE = fixture("meta/ads.json")["data"][0]


def meta_row(account: str, ad: int, day: date, spend: str = "14.35") -> dict[str, Any]:
    row = copy.deepcopy(META_TEMPLATE)
    row.update(
        account_id=account.removeprefix("act_"),
        ad_id=f"1202084113{ad:08d}",
        ad_name=f"ad {ad}",
        date_start=day.isoformat(),
        date_stop=day.isoformat(),
        spend=spend,
    )
    for key in ("ctr", "cpc", "cpm", "cost_per_action_type"):
        row.pop(key, None)
    return row


class FakeMeta(FakeApi):
    """`/act_X/insights` and `/act_X/ads` with cursor paging; `next` carries the token."""

    base = "https://graph.test/v21.0"

    def __init__(
        self, insights: list[dict[str, Any]], ads: list[dict[str, Any]], page_size: int = 3
    ):
        super().__init__()
        self.insights = insights
        self.ads = ads
        self.page_size = page_size
        self.headers: dict[str, str] = {}

    def answer(self, request: httpx.Request) -> httpx.Response:
        query = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
        assert query.get("access_token") == "meta-secret-token"
        account = request.url.path.split("/")[-2]
        if request.url.path.endswith("/insights"):
            assert query["level"] == "ad" and query["time_increment"] == "1"
            span = json.loads(query["time_range"])
            rows = [
                r
                for r in self.insights
                if f"act_{r['account_id']}" == account
                and span["since"] <= r["date_start"] <= span["until"]
            ]
            rows.sort(key=lambda r: (r["date_start"], r["ad_id"]))
        else:
            rows = [a for a in self.ads if f"act_{a['account_id']}" == account]
        offset = int(query.get("after", "0"))
        page = rows[offset : offset + self.page_size]
        after = offset + len(page)
        paging: dict[str, Any] = {"cursors": {"before": str(offset), "after": str(after)}}
        if after < len(rows):
            paging["next"] = f"{self.base}/{account}/insights?" + urlencode(
                {**query, "after": str(after)}
            )
        return httpx.Response(200, json={"data": page, "paging": paging}, headers=self.headers)


# -- snapshots ----------------------------------------------------------------------------


def raw_snapshot(target: WarehouseTarget, schema: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of a raw schema (incl. `_loaded_at` and `_sync_state`)."""
    tables = [*RAW_TABLES[schema], "_sync_state"]
    out = {}
    with connect(target) as conn:
        for table in tables:
            rows = conn.execute(f"select * from {schema}.{table}").fetchall()
            out[table] = sorted(
                (
                    tuple(json.dumps(v, sort_keys=True) if isinstance(v, dict) else v for v in r)
                    for r in rows
                ),
                key=repr,
            )
    return out


def query(target: WarehouseTarget, sql: str) -> list[tuple[Any, ...]]:
    with connect(target) as conn:
        return [tuple(r) for r in conn.execute(sql).fetchall()]


def payload(value: Any) -> Any:
    """A json column as Python: DuckDB returns text, psycopg parsed JSON."""
    return json.loads(value) if isinstance(value, str) else value


# -- TikTok -------------------------------------------------------------------------------

TIKTOK_TEMPLATE = fixture("tiktok/report_integrated_page1.json")["data"]["list"][0]
TIKTOK_VIDEO_PAGES = [
    fixture("tiktok/video_list_page1.json"),
    fixture("tiktok/video_list_page2.json"),
]


def tiktok_row(ad: int, day: date, spend: str = "20.000") -> dict[str, Any]:
    row = copy.deepcopy(TIKTOK_TEMPLATE)
    row["dimensions"] = {"ad_id": f"73582019466{ad:05d}", "stat_time_day": f"{day} 00:00:00"}
    row["metrics"]["spend"] = spend
    return row


def tiktok_ad(
    ad: int, status: str = "ENABLE", modified: str = "2024-05-01 10:00:00"
) -> dict[str, Any]:
    return {
        "ad_id": f"73582019466{ad:05d}",
        "ad_name": f"ad {ad}",
        "advertiser_id": "7000000000000000001",
        "campaign_id": "7358201946610022",
        "adgroup_id": "7358201946610038",
        "operation_status": status,
        "secondary_status": "AD_STATUS_DELIVERY_OK",
        "create_time": "2024-04-20 09:00:00",
        "modify_time": modified,
    }


def tiktok_envelope(data: Any, code: int = 0, message: str = "OK") -> dict[str, Any]:
    return {"code": code, "message": message, "request_id": "2024060110301809E4C1", "data": data}


class FakeTikTok(FakeApi):
    """Business API (`report/integrated/get/`, `ad/get/`) and Display API (`video/list/`)."""

    base = "https://tiktok.test/open_api/v1.3"
    display_base = "https://tiktok-display.test/v2"

    def __init__(
        self,
        rows: list[dict[str, Any]],
        ads: list[dict[str, Any]],
        page_size: int = 2,
        videos: list[dict[str, Any]] | None = None,
    ):
        super().__init__()
        self.rows = rows
        self.ads = ads
        self.page_size = page_size
        self.videos = (
            videos
            if videos is not None
            else [v for p in TIKTOK_VIDEO_PAGES for v in p["data"]["videos"]]
        )

    def answer(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/video/list/"):
            assert request.headers["authorization"] == "Bearer display-secret"
            body = json.loads(request.content)
            offset = int(body.get("cursor", 0))
            page = self.videos[offset : offset + 2]
            data = {
                "videos": page,
                "cursor": offset + len(page),
                "has_more": offset + 2 < len(self.videos),
            }
            return httpx.Response(
                200, json={"data": data, "error": {"code": "ok", "message": "", "log_id": "x"}}
            )
        assert request.headers["access-token"] == "tiktok-secret"  # bare token
        query = dict(httpx.QueryParams(request.url.query))
        if request.url.path.endswith("/report/integrated/get/"):
            assert json.loads(query["dimensions"]) == ["ad_id", "stat_time_day"]
            rows = [
                r
                for r in self.rows
                if query["start_date"] <= r["dimensions"]["stat_time_day"][:10] <= query["end_date"]
            ]
        else:
            rows = self.ads
        number = int(query["page"])
        size = self.page_size
        total_page = max(1, -(-len(rows) // size))
        data = {
            "list": rows[(number - 1) * size : number * size],
            "page_info": {
                "page": number,
                "page_size": size,
                "total_number": len(rows),
                "total_page": total_page,
            },
        }
        return httpx.Response(200, json=tiktok_envelope(data))


# -- Stripe (a real HTTP server: the official SDK does its own HTTP) ------------------------

StripeFault = Callable[[str, dict[str, str]], tuple[int, dict[str, str], Any]]


def stripe_object(name: str, **fields: Any) -> dict[str, Any]:
    obj = copy.deepcopy(fixture(f"stripe/{name}.json"))
    obj.update(fields)
    return obj


class FakeStripe:
    """`/v1/<resource>` lists (newest first, `limit`/`starting_after`, `created[gt]` on
    events), `/v1/invoices/{id}/lines` and `/v1/subscription_items?subscription=`."""

    def __init__(self, lists: dict[str, list[dict[str, Any]]]) -> None:
        self.lists = lists  # resource -> objects, newest first
        self.sub_items: dict[str, list[dict[str, Any]]] = {}
        self.invoice_lines: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.faults: dict[int, StripeFault] = {}
        self._server: Any = None

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        self.requests.append((path, query))
        fault = self.faults.pop(len(self.requests), None)
        if fault is not None:
            return fault(path, query)
        parts = path.strip("/").split("/")  # v1, resource[, id, lines]
        if parts[1] == "invoices" and len(parts) == 4:
            items, url = self.invoice_lines[parts[2]], path
        elif parts[1] == "subscription_items":
            items, url = self.sub_items[query["subscription"]], "/v1/subscription_items"
        else:
            items, url = self.lists.get(parts[1], []), f"/v1/{parts[1]}"
        if "created[gt]" in query:
            items = [i for i in items if i["created"] > int(query["created[gt]"])]
        if "starting_after" in query:
            ids = [i["id"] for i in items]
            items = items[ids.index(query["starting_after"]) + 1 :]
        limit = int(query.get("limit", "10"))
        body = {"object": "list", "data": items[:limit], "has_more": len(items) > limit, "url": url}
        return 200, {}, body

    def start(self) -> str:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = httpx.URL(self.path)
                assert self.headers["Authorization"] == "Bearer sk_test_secret"
                code, headers, body = fake.answer(url.path, dict(httpx.QueryParams(url.query)))
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]


def stripe_fault(code: int, headers: dict[str, str] | None = None) -> StripeFault:
    def fault(path: str, query: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        error = {
            "error": {
                "type": "api_error",
                "message": "Too many requests" if code == 429 else "boom",
            }
        }
        return code, headers or {}, error

    return fault
