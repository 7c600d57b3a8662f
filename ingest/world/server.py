"""The sample transport: a local HTTP server that serves a sample world like the live APIs.

    with SampleWorldServer(Path("sample_world")) as world:
        world.meta_api_base_url        # http://127.0.0.1:PORT/meta/v21.0
        world.tiktok_api_base_url      # http://127.0.0.1:PORT/tiktok/open_api/v1.3
        world.tiktok_display_api_base_url
        world.stripe_api_base_url      # give to StripeClient(base_addresses={"api": …})
        world.now = datetime(2024, 6, 10, 9, tzinfo=UTC)   # move the world's clock

It answers the calls of `docs/API_CONTRACT.md` from the files of `ingest.world.store`, with
the vendors' envelopes, paging (Meta `after` cursors and `paging.next`, TikTok `page`/
`page_size`, Display API `cursor`/`has_more`, Stripe `starting_after`/`ending_before`), date
and `created[…]` filters, field selection, token checks and the vendors' error bodies. As of
`now`: only days before `now`'s date are reported, ads show the status they had at `now`,
videos their counters at `now` (interpolated within the day), Stripe lists only objects
created at or before `now` (in their final state) and events of the 30 days before it.
`inject(api, status, body)` makes the next calls to one API fail (throttling tests).
"""

from __future__ import annotations

import base64
import bisect
import json
import math
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from ingest.world.generate import API_PREFIXES
from ingest.world.store import STRIPE_RESOURCES, WorldFiles, read_jsonl

INSIGHTS_ALWAYS = ("date_start", "date_stop")
META_HIDDEN_BY_DEFAULT = {"ARCHIVED", "DELETED"}
STRIPE_EVENT_RETENTION = timedelta(days=30)
STRIPE_OBJECT_NAMES = {
    "customers": "customer",
    "products": "product",
    "prices": "price",
    "subscriptions": "subscription",
    "invoices": "invoice",
    "charges": "charge",
    "refunds": "refund",
    "events": "event",
}


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class _Injected:
    api: str
    status: int
    body: Any
    headers: dict[str, str]
    remaining: int


class _StripeIndex:
    """One Stripe resource's index: ids and `created` newest first, byte ranges into the file."""

    def __init__(self, files: WorldFiles, resource: str) -> None:
        self.path = files.stripe(resource)
        self.ids: list[str] = []
        self.neg_created: list[int] = []  # ascending, for bisect
        self.ranges: list[tuple[int, int]] = []
        self.position: dict[str, int] = {}
        index_path = files.stripe_index(resource)
        if index_path.exists():
            with index_path.open(encoding="utf-8") as handle:
                for line in handle:
                    object_id, created, offset, length = line.rstrip("\n").split("\t")
                    self.position[object_id] = len(self.ids)
                    self.ids.append(object_id)
                    self.neg_created.append(-int(created))
                    self.ranges.append((int(offset), int(length)))

    def read(self, handle: Any, position: int) -> dict[str, Any]:
        offset, length = self.ranges[position]
        handle.seek(offset)
        result: dict[str, Any] = json.loads(handle.read(length))
        return result


class SampleWorld:
    """The request-answering logic, independent of HTTP plumbing (and easy to test)."""

    def __init__(self, root: Path, now: datetime | None = None) -> None:
        self.files = WorldFiles(root)
        if not self.files.manifest.exists():
            raise FileNotFoundError(
                f"no sample world at {root}: run `acd-warehouse seed --out {root}` first"
            )
        self.manifest = json.loads(self.files.manifest.read_text(encoding="utf-8"))
        default_now = datetime.fromisoformat(self.manifest["default_now"].replace("Z", "+00:00"))
        self.now = now or default_now
        self.meta_accounts = {
            acc.removeprefix("act_") for acc in self.manifest["accounts"]["meta_ad_account_ids"]
        }
        self.tiktok_advertisers = set(self.manifest["accounts"]["tiktok_advertiser_ids"])
        self.meta_ads = {acc: read_jsonl(self.files.meta_ads(acc)) for acc in self.meta_accounts}
        self.tiktok_ads = {
            adv: read_jsonl(self.files.tiktok_ads(adv)) for adv in self.tiktok_advertisers
        }
        self.videos = read_jsonl(self.files.tiktok_videos)
        self._stripe: dict[str, _StripeIndex] = {}
        self._lock = threading.Lock()
        self._injected: list[_Injected] = []
        self._counter = 0
        self.requests: list[tuple[str, str]] = []

    # plumbing ----------------------------------------------------------------------------

    def inject(
        self,
        api: str,
        status: int,
        body: Any,
        *,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls to `api` (meta|tiktok|tiktok_display|stripe) so."""
        if api not in API_PREFIXES:
            raise ValueError(f"unknown api {api!r}; one of {sorted(API_PREFIXES)}")
        with self._lock:
            self._injected.append(_Injected(api, status, body, headers or {}, times))

    def _next_id(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes, base_url: str
    ) -> Reply:
        parts = urlsplit(target)
        path = parts.path
        query = {
            key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()
        }
        with self._lock:
            self.requests.append((method, target))
        for api, prefix in API_PREFIXES.items():
            if path == prefix or path.startswith(prefix + "/"):
                injected = self._take_injected(api)
                if injected is not None:
                    return injected
                rest = path[len(prefix) :]
                try:
                    if api == "meta":
                        return self._meta(method, rest, query, base_url + path)
                    if api == "tiktok":
                        return self._tiktok(method, rest, query, headers)
                    if api == "tiktok_display":
                        return self._display(method, rest, query, headers, body)
                    return self._stripe_api(method, rest, parts.query, headers)
                except ApiError as exc:
                    return Reply(exc.status, exc.body, exc.headers)
        return Reply(404, {"error": f"no sample API at {path}"}, {})

    def _take_injected(self, api: str) -> Reply | None:
        with self._lock:
            for item in self._injected:
                if item.api == api and item.remaining > 0:
                    item.remaining -= 1
                    return Reply(item.status, item.body, dict(item.headers))
        return None

    def _complete_days(self, since: date, until: date) -> list[date]:
        last = min(until, self.now.date() - timedelta(days=1))  # today is not complete yet
        days = []
        day = since
        while day <= last:
            days.append(day)
            day += timedelta(days=1)
        return days

    # Meta ----------------------------------------------------------------------------------

    def _meta_error(
        self, message: str, code: int, *, subcode: int | None = None, type_: str = "OAuthException"
    ) -> ApiError:
        error: dict[str, Any] = {"message": message, "type": type_, "code": code}
        if subcode is not None:
            error["error_subcode"] = subcode
        error["is_transient"] = False
        error["fbtrace_id"] = f"A{self._next_id():010d}SampleWorld"
        return ApiError(400, {"error": error})

    def _meta(self, method: str, rest: str, query: dict[str, str], self_url: str) -> Reply:
        if method != "GET":
            raise self._meta_error("Unsupported method", 100, type_="GraphMethodException")
        if not query.get("access_token"):
            raise self._meta_error("An access token is required to request this resource.", 104)
        segments = rest.strip("/").split("/")
        if len(segments) != 2 or not segments[0].startswith("act_"):
            raise self._meta_error(f"Unknown path components: {rest}", 2500)
        account = segments[0].removeprefix("act_")
        if account not in self.meta_accounts:
            raise self._meta_error(
                f"Unsupported get request. Object with ID '{segments[0]}' does not exist, cannot "
                "be loaded due to missing permissions, or does not support this operation.",
                100,
                subcode=33,
                type_="GraphMethodException",
            )
        statuses = self._meta_statuses(account)
        allowed = self._meta_filter(query.get("filtering"))
        if segments[1] == "insights":
            rows = self._meta_insights(account, query, statuses, allowed)
        elif segments[1] == "ads":
            rows = self._meta_ads_list(account, query, statuses, allowed)
        else:
            raise self._meta_error(f"Unknown path components: /{segments[1]}", 2500)
        limit = self._int(query.get("limit"), 25, lambda msg: self._meta_error(msg, 100))
        offset = 0
        if query.get("after"):
            offset = self._meta_cursor_decode(query["after"]) + 1
        page = rows[offset : offset + limit]
        reply: dict[str, Any] = {"data": page}
        if page:
            paging: dict[str, Any] = {
                "cursors": {
                    "before": self._meta_cursor(offset),
                    "after": self._meta_cursor(offset + len(page) - 1),
                }
            }
            if offset + len(page) < len(rows):
                next_query = {k: v for k, v in query.items() if k not in ("after", "before")}
                next_query["after"] = paging["cursors"]["after"]
                paging["next"] = self_url + "?" + urlencode(next_query)
            if offset > 0:
                prev_query = {k: v for k, v in query.items() if k not in ("after", "before")}
                prev_query["before"] = paging["cursors"]["before"]
                paging["previous"] = self_url + "?" + urlencode(prev_query)
            reply["paging"] = paging
        usage = json.dumps({"call_count": 1, "total_cputime": 1, "total_time": 1})
        headers = {
            "x-app-usage": usage,
            "x-ad-account-usage": json.dumps(
                {
                    "acc_id_util_pct": 0.5,
                    "reset_time_duration": 0,
                    "ads_api_access_tier": "standard_access",
                }
            ),
            "x-business-use-case-usage": json.dumps(
                {
                    account: [
                        {
                            "type": "ads_insights"
                            if segments[1] == "insights"
                            else "ads_management",
                            "call_count": 1,
                            "total_cputime": 1,
                            "total_time": 1,
                            "estimated_time_to_regain_access": 0,
                            "ads_api_access_tier": "standard_access",
                        }
                    ]
                }
            ),
        }
        if segments[1] == "insights":
            headers["x-fb-ads-insights-throttle"] = json.dumps(
                {
                    "app_id_util_pct": 0.5,
                    "acc_id_util_pct": 0.5,
                    "ads_api_access_tier": "standard_access",
                }
            )
        return Reply(200, reply, headers)

    @staticmethod
    def _meta_cursor(offset: int) -> str:
        return base64.b64encode(str(offset).encode()).decode().replace("=", "ZD")

    def _meta_cursor_decode(self, cursor: str) -> int:
        try:
            return int(base64.b64decode(cursor.replace("ZD", "=")).decode())
        except ValueError as exc:
            raise self._meta_error("Invalid cursor", 100) from exc

    def _meta_statuses(self, account: str) -> dict[str, tuple[str, str, int] | None]:
        """Each ad's (status, effective_status, changed_at) as of `now` (None: not created)."""
        now = int(self.now.timestamp())
        result: dict[str, tuple[str, str, int] | None] = {}
        for line in self.meta_ads[account]:
            current = None
            for at, status, effective in line["history"]:
                if at <= now:
                    current = (status, effective, at)
            result[line["ad"]["id"]] = current
        return result

    def _meta_filter(self, filtering: str | None) -> set[str] | None:
        """Allowed effective statuses from `filtering`, or None (the default set)."""
        if not filtering:
            return None
        try:
            clauses = json.loads(filtering)
        except ValueError as exc:
            raise self._meta_error("(#100) filtering must be a JSON array", 100) from exc
        allowed: set[str] | None = None
        for clause in clauses:
            if clause.get("field") in ("effective_status", "ad.effective_status"):
                if clause.get("operator") != "IN":
                    raise self._meta_error("(#100) effective_status supports operator IN", 100)
                allowed = {str(value) for value in clause.get("value", [])}
        return allowed

    @staticmethod
    def _visible(state: tuple[str, str, int] | None, allowed: set[str] | None) -> bool:
        if state is None:
            return False
        if allowed is None:
            return state[1] not in META_HIDDEN_BY_DEFAULT
        return state[1] in allowed

    def _meta_insights(
        self,
        account: str,
        query: dict[str, str],
        statuses: dict[str, tuple[str, str, int] | None],
        allowed: set[str] | None,
    ) -> list[dict[str, Any]]:
        if query.get("level", "ad") != "ad":
            raise self._meta_error("(#100) the sample world serves level=ad insights only", 100)
        if query.get("time_increment", "1") != "1":
            raise self._meta_error("(#100) the sample world serves time_increment=1 only", 100)
        if "time_range" in query:
            try:
                time_range = json.loads(query["time_range"])
                since = date.fromisoformat(time_range["since"])
                until = date.fromisoformat(time_range["until"])
            except (ValueError, KeyError, TypeError) as exc:
                raise self._meta_error(
                    "(#100) time_range must be {'since':YYYY-MM-DD,'until':YYYY-MM-DD}", 100
                ) from exc
        else:  # Meta's default date_preset is last_30d
            until = self.now.date() - timedelta(days=1)
            since = until - timedelta(days=29)
        if since > until:
            raise self._meta_error("(#100) time_range since must not be after until", 100)
        fields = [f for f in query.get("fields", "").split(",") if f]
        rows: list[dict[str, Any]] = []
        for day in self._complete_days(since, until):
            for row in read_jsonl(self.files.meta_insights(account, day)):
                if not self._visible(statuses.get(row["ad_id"]), allowed):
                    continue
                if fields:
                    row = {
                        key: value
                        for key, value in row.items()
                        if key in fields or key in INSIGHTS_ALWAYS
                    }
                rows.append(row)
        return rows

    def _meta_ads_list(
        self,
        account: str,
        query: dict[str, str],
        statuses: dict[str, tuple[str, str, int] | None],
        allowed: set[str] | None,
    ) -> list[dict[str, Any]]:
        from ingest.world.payloads import meta_time

        fields = [f for f in query.get("fields", "").split(",") if f]
        # `creative{id}` asks for the creative's id: the top-level name is `creative`.
        wanted = {field.split("{", 1)[0] for field in fields}
        ads: list[dict[str, Any]] = []
        for line in self.meta_ads[account]:
            state = statuses[line["ad"]["id"]]
            if not self._visible(state, allowed):
                continue
            assert state is not None
            fixed = line["ad"]
            ad = {
                "id": fixed["id"],
                "name": fixed["name"],
                "account_id": fixed["account_id"],
                "campaign_id": fixed["campaign_id"],
                "adset_id": fixed["adset_id"],
                "status": state[0],
                "configured_status": state[0],
                "effective_status": state[1],
                "creative": fixed["creative"],
                "created_time": fixed["created_time"],
                "updated_time": meta_time(datetime.fromtimestamp(state[2], UTC)),
            }
            if wanted:
                ad = {key: value for key, value in ad.items() if key in wanted or key == "id"}
            ads.append(ad)
        ads.sort(key=lambda ad: ad["id"], reverse=True)
        return ads

    # TikTok Business API -------------------------------------------------------------------

    def _tiktok_envelope(self, code: int, message: str, data: Any) -> Reply:
        request_id = self.now.strftime("%Y%m%d%H%M%S") + f"{self._next_id():020X}"
        return Reply(
            200, {"code": code, "message": message, "request_id": request_id, "data": data}, {}
        )

    def _tiktok_fail(self, code: int, message: str) -> ApiError:
        reply = self._tiktok_envelope(code, message, {})
        return ApiError(200, reply.body)

    def _tiktok(
        self, method: str, rest: str, query: dict[str, str], headers: dict[str, str]
    ) -> Reply:
        token = headers.get("access-token", "")
        if not token:
            raise self._tiktok_fail(40104, "Access token is empty.")
        if token.lower().startswith("bearer "):
            raise self._tiktok_fail(40105, "Access token is incorrect or has been revoked.")
        if method != "GET":
            raise self._tiktok_fail(40002, f"Method {method} not allowed")
        advertiser = query.get("advertiser_id", "")
        if advertiser not in self.tiktok_advertisers:
            raise self._tiktok_fail(40001, f"No permission to operate advertiser {advertiser}")
        page = self._int(query.get("page"), 1, lambda m: self._tiktok_fail(40002, m), minimum=1)
        page_size = self._int(
            query.get("page_size"), 10, lambda m: self._tiktok_fail(40002, m), minimum=1
        )
        if page_size > 1000:
            raise self._tiktok_fail(40002, "page_size: must be at most 1000")
        if rest.rstrip("/") == "/report/integrated/get":
            rows = self._tiktok_report(advertiser, query)
        elif rest.rstrip("/") == "/ad/get":
            rows = self._tiktok_ads_list(advertiser, query)
        else:
            raise self._tiktok_fail(40002, f"Unknown endpoint {rest}")
        total = len(rows)
        data = {
            "list": rows[(page - 1) * page_size : page * page_size],
            "page_info": {
                "page": page,
                "page_size": page_size,
                "total_number": total,
                "total_page": math.ceil(total / page_size),
            },
        }
        return self._tiktok_envelope(0, "OK", data)

    def _json_list(self, raw: str | None, name: str) -> list[str] | None:
        if raw is None:
            return None
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise self._tiktok_fail(40002, f"{name}: must be a JSON list") from exc
        if not isinstance(value, list):
            raise self._tiktok_fail(40002, f"{name}: must be a JSON list")
        return [str(item) for item in value]

    def _tiktok_report(self, advertiser: str, query: dict[str, str]) -> list[dict[str, Any]]:
        if query.get("report_type", "BASIC") != "BASIC":
            raise self._tiktok_fail(40002, "report_type: the sample world serves BASIC")
        if query.get("data_level", "AUCTION_AD") != "AUCTION_AD":
            raise self._tiktok_fail(40002, "data_level: the sample world serves AUCTION_AD")
        dimensions = self._json_list(query.get("dimensions"), "dimensions")
        if dimensions is None or sorted(dimensions) != ["ad_id", "stat_time_day"]:
            raise self._tiktok_fail(40002, 'dimensions: must be ["ad_id","stat_time_day"]')
        try:
            since = date.fromisoformat(query["start_date"])
            until = date.fromisoformat(query["end_date"])
        except (KeyError, ValueError) as exc:
            raise self._tiktok_fail(
                40002, "start_date and end_date (YYYY-MM-DD) are required"
            ) from exc
        if since > until:
            raise self._tiktok_fail(40002, "start_date must not be after end_date")
        if (until - since).days + 1 > 30:
            raise self._tiktok_fail(
                40002, "The time span between start_date and end_date must be at most 30 days"
            )
        metrics = self._json_list(query.get("metrics"), "metrics")
        rows: list[dict[str, Any]] = []
        for day in self._complete_days(since, until):
            for row in read_jsonl(self.files.tiktok_report(advertiser, day)):
                if metrics is not None:
                    unknown = [m for m in metrics if m not in row["metrics"]]
                    if unknown:
                        raise self._tiktok_fail(40002, f"metrics: invalid metric {unknown[0]}")
                    row = {
                        "dimensions": {key: row["dimensions"][key] for key in dimensions},
                        "metrics": {m: row["metrics"][m] for m in metrics},
                    }
                rows.append(row)
        return rows

    def _tiktok_ads_list(self, advertiser: str, query: dict[str, str]) -> list[dict[str, Any]]:
        from ingest.world.payloads import tiktok_time

        now = int(self.now.timestamp())
        fields = self._json_list(query.get("fields"), "fields")
        ads = []
        for line in self.tiktok_ads[advertiser]:
            state = None
            for at, operation, secondary in line["history"]:
                if at <= now:
                    state = (operation, secondary, at)
            if state is None:
                continue
            ad = dict(line["ad"])
            ad["operation_status"] = state[0]
            ad["secondary_status"] = state[1]
            ad["modify_time"] = tiktok_time(datetime.fromtimestamp(state[2], UTC))
            if fields:
                ad = {key: value for key, value in ad.items() if key in fields}
            ads.append(ad)
        return ads

    # TikTok Display API --------------------------------------------------------------------

    def _display_error(self, status: int, code: str, message: str) -> ApiError:
        return ApiError(
            status,
            {"data": {}, "error": {"code": code, "message": message, "log_id": self._log_id()}},
        )

    def _log_id(self) -> str:
        return self.now.strftime("%Y%m%d%H%M%S") + f"{self._next_id():020X}"

    def _display(
        self, method: str, rest: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Reply:
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            raise self._display_error(
                401,
                "access_token_invalid",
                "The access token is invalid or not found in the request.",
            )
        if rest.rstrip("/") != "/video/list":
            raise self._display_error(404, "invalid_params", f"Unknown endpoint {rest}")
        if method != "POST":
            raise self._display_error(405, "invalid_params", "Use POST for /v2/video/list/")
        fields = [f for f in query.get("fields", "").split(",") if f]
        if not fields:
            raise self._display_error(400, "invalid_params", "fields is required")
        try:
            request = json.loads(body or b"{}")
            max_count = int(request.get("max_count", 10))
            cursor = request.get("cursor")
            cursor = None if cursor is None else int(cursor)
        except (ValueError, TypeError, AttributeError) as exc:
            raise self._display_error(
                400, "invalid_params", "body must be {max_count, cursor?}"
            ) from exc
        if not 1 <= max_count <= 20:
            raise self._display_error(400, "invalid_params", "max_count must be between 1 and 20")
        now = int(self.now.timestamp())
        candidates = [
            line
            for line in self.videos
            if line["video"]["create_time"] <= now
            and (cursor is None or line["video"]["create_time"] * 1000 < cursor)
        ]
        candidates.sort(key=lambda line: line["video"]["create_time"], reverse=True)
        page = candidates[:max_count]
        videos = [self._video_now(line, fields) for line in page]
        next_cursor = page[-1]["video"]["create_time"] * 1000 if page else (cursor or now * 1000)
        reply = {
            "data": {
                "videos": videos,
                "cursor": next_cursor,
                "has_more": len(candidates) > len(page),
            },
            "error": {"code": "ok", "message": "", "log_id": self._log_id()},
        }
        return Reply(200, reply, {})

    def _video_now(self, line: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        video = dict(line["video"])
        daily = line["daily"]
        today = self.now.date().isoformat()
        counters = [0, 0, 0, 0]
        previous = [0, 0, 0, 0]
        start_of_day = datetime.combine(self.now.date(), datetime.min.time(), tzinfo=UTC)
        for entry in daily:
            if entry[0] < today:
                previous = entry[1:]
                counters = entry[1:]
            elif entry[0] == today:
                begin = max(start_of_day.timestamp(), video["create_time"])
                span = start_of_day.timestamp() + 86400 - begin
                fraction = (self.now.timestamp() - begin) / span if span > 0 else 1.0
                counters = [
                    int(p + (c - p) * min(max(fraction, 0.0), 1.0))
                    for p, c in zip(previous, entry[1:], strict=True)
                ]
                break
        if daily and today < daily[0][0]:
            counters = daily[0][1:]
        video["view_count"], video["like_count"], video["comment_count"], video["share_count"] = (
            counters
        )
        return {key: value for key, value in video.items() if key in fields or key == "id"}

    # Stripe --------------------------------------------------------------------------------

    def _stripe_error(
        self, status: int, message: str, *, param: str | None = None, code: str | None = None
    ) -> ApiError:
        error: dict[str, Any] = {"message": message, "type": "invalid_request_error"}
        if param:
            error["param"] = param
        if code:
            error["code"] = code
        return ApiError(
            status, {"error": error}, {"Request-Id": f"req_sample{self._next_id():012d}"}
        )

    def _stripe_index(self, resource: str) -> _StripeIndex:
        with self._lock:
            index = self._stripe.get(resource)
            if index is None:
                index = _StripeIndex(self.files, resource)
                self._stripe[resource] = index
            return index

    def _stripe_api(self, method: str, rest: str, raw_query: str, headers: dict[str, str]) -> Reply:
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            raise self._stripe_error(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth "
                "(e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            )
        if method != "GET":
            raise self._stripe_error(405, "The sample world is read-only: only GET is served.")
        query = {
            key: values[-1] for key, values in parse_qs(raw_query, keep_blank_values=True).items()
        }
        segments = rest.strip("/").split("/")
        if not segments or segments[0] != "v1" or len(segments) < 2:
            raise self._stripe_error(404, f"Unrecognized request URL (GET: {rest}).")
        resource = segments[1]
        extra = {
            "Request-Id": f"req_sample{self._next_id():012d}",
            "Stripe-Version": "2025-03-31.basil",
        }
        if resource == "subscription_items" and len(segments) == 2:
            sub_id = query.get("subscription")
            if not sub_id:
                raise self._stripe_error(
                    400, "Missing required param: subscription.", param="subscription"
                )
            sub = self._stripe_get("subscriptions", sub_id)
            items = sub["items"]["data"]
            return Reply(
                200,
                self._page(items, query, f"/v1/subscription_items?subscription={sub_id}"),
                extra,
            )
        if resource not in STRIPE_RESOURCES:
            raise self._stripe_error(404, f"Unrecognized request URL (GET: /v1/{resource}).")
        if len(segments) == 2:
            return Reply(200, self._stripe_list(resource, query), extra)
        obj = self._stripe_get(resource, segments[2])
        if len(segments) == 3:
            return Reply(200, obj, extra)
        if len(segments) == 4 and resource == "invoices" and segments[3] == "lines":
            return Reply(200, self._page(obj["lines"]["data"], query, obj["lines"]["url"]), extra)
        if len(segments) == 4 and resource == "charges" and segments[3] == "refunds":
            return Reply(
                200, self._page(obj["refunds"]["data"], query, obj["refunds"]["url"]), extra
            )
        raise self._stripe_error(404, f"Unrecognized request URL (GET: {rest}).")

    def _stripe_get(self, resource: str, object_id: str) -> dict[str, Any]:
        index = self._stripe_index(resource)
        position = index.position.get(object_id)
        if position is None or -index.neg_created[position] > self.now.timestamp():
            raise self._stripe_error(
                404,
                f"No such {STRIPE_OBJECT_NAMES[resource]}: '{object_id}'",
                param="id",
                code="resource_missing",
            )
        with index.path.open("rb") as handle:
            return index.read(handle, position)

    def _limit(self, query: dict[str, str]) -> int:
        limit = self._int(
            query.get("limit"), 10, lambda m: self._stripe_error(400, m, param="limit"), minimum=1
        )
        if limit > 100:
            raise self._stripe_error(
                400,
                f"This value must be less than or equal to 100 (it currently is '{limit}').",
                param="limit",
            )
        return limit

    def _page(self, items: list[dict[str, Any]], query: dict[str, str], url: str) -> dict[str, Any]:
        limit = self._limit(query)
        start = 0
        if query.get("starting_after"):
            ids = [item["id"] for item in items]
            start = (
                ids.index(query["starting_after"]) + 1
                if query["starting_after"] in ids
                else len(items)
            )
        page = items[start : start + limit]
        return {"object": "list", "data": page, "has_more": start + limit < len(items), "url": url}

    def _stripe_list(self, resource: str, query: dict[str, str]) -> dict[str, Any]:
        index = self._stripe_index(resource)
        limit = self._limit(query)
        if query.get("starting_after") and query.get("ending_before"):
            raise self._stripe_error(
                400, "You may only specify one of these parameters: ending_before, starting_after."
            )
        # Window of `created` values: the clock, event retention and created[...] filters.
        upper = int(self.now.timestamp())
        lower = -(2**62)
        if resource == "events":
            lower = int((self.now - STRIPE_EVENT_RETENTION).timestamp())
        for op, value in self._created_filters(query):
            if op == "gt":
                lower = max(lower, value + 1)
            elif op == "gte":
                lower = max(lower, value)
            elif op == "lt":
                upper = min(upper, value - 1)
            elif op == "lte":
                upper = min(upper, value)
            else:
                lower, upper = max(lower, value), min(upper, value)
        begin = bisect.bisect_left(index.neg_created, -upper)
        end = bisect.bisect_right(index.neg_created, -lower)
        predicate = self._stripe_predicate(resource, query)
        url = f"/v1/{resource}"
        with index.path.open("rb") as handle:
            if query.get("ending_before"):
                anchor = self._anchor(index, query["ending_before"], "ending_before")
                found: list[dict[str, Any]] = []
                position = min(anchor, end) - 1
                while position >= begin and len(found) <= limit:
                    obj = index.read(handle, position)
                    if predicate(obj):
                        found.append(obj)
                    position -= 1
                has_more = len(found) > limit
                page = list(reversed(found[:limit]))
                return {"object": "list", "data": page, "has_more": has_more, "url": url}
            position = begin
            if query.get("starting_after"):
                position = max(
                    begin, self._anchor(index, query["starting_after"], "starting_after") + 1
                )
            data: list[dict[str, Any]] = []
            has_more = False
            while position < end:
                obj = index.read(handle, position)
                position += 1
                if not predicate(obj):
                    continue
                if len(data) == limit:
                    has_more = True
                    break
                data.append(obj)
        return {"object": "list", "data": data, "has_more": has_more, "url": url}

    def _anchor(self, index: _StripeIndex, object_id: str, param: str) -> int:
        position = index.position.get(object_id)
        if position is None:
            raise self._stripe_error(
                400, f"No such object: '{object_id}'", param=param, code="resource_missing"
            )
        return position

    def _created_filters(self, query: dict[str, str]) -> list[tuple[str, int]]:
        filters = []
        for key, value in query.items():
            if key == "created" or (key.startswith("created[") and key.endswith("]")):
                op = key[8:-1] if key != "created" else "eq"
                if op not in ("gt", "gte", "lt", "lte", "eq"):
                    raise self._stripe_error(400, f"Invalid created filter: {key}", param="created")
                try:
                    filters.append((op, int(value)))
                except ValueError as exc:
                    raise self._stripe_error(400, f"Invalid integer: {value}", param=key) from exc
        return filters

    def _stripe_predicate(self, resource: str, query: dict[str, str]) -> Any:
        checks: list[Any] = []
        if resource == "subscriptions":
            status = query.get("status")
            if status is None:
                checks.append(lambda obj: obj["status"] != "canceled")
            elif status != "all":
                checks.append(lambda obj: obj["status"] == status)
        if "customer" in query and resource in ("subscriptions", "invoices", "charges"):
            customer = query["customer"]
            checks.append(lambda obj: obj["customer"] == customer)
        if resource == "events":
            types = [
                value for key, value in query.items() if key == "type" or key.startswith("types[")
            ]
            if types:
                checks.append(lambda obj: any(_type_matches(obj["type"], t) for t in types))
        if resource == "prices" and "product" in query:
            product = query["product"]
            checks.append(lambda obj: obj["product"] == product)
        return lambda obj: all(check(obj) for check in checks)

    # shared --------------------------------------------------------------------------------

    @staticmethod
    def _int(raw: str | None, default: int, error: Any, *, minimum: int = 1) -> int:
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError as exc:
            raise error(f"Invalid integer: {raw}") from exc
        if value < minimum:
            raise error(f"must be at least {minimum}")
        return value


def _type_matches(event_type: str, pattern: str) -> bool:
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return event_type == pattern


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {key.lower(): value for key, value in self.headers.items()}
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
        reply = self.server.world.handle(self.command, self.path, headers, body, f"http://{host}")
        data = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = _serve
    do_POST = _serve
    do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    world: SampleWorld


class SampleWorldServer:
    """Serves a sample world on 127.0.0.1 (an ephemeral port by default) in a thread."""

    def __init__(
        self, root: Path, *, now: datetime | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.world = SampleWorld(Path(root), now)
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.world = self.world
        self._thread: threading.Thread | None = None

    @property
    def now(self) -> datetime:
        return self.world.now

    @now.setter
    def now(self, value: datetime) -> None:
        if value.tzinfo is None:
            raise ValueError("now must be timezone-aware (UTC)")
        self.world.now = value.astimezone(UTC)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def meta_api_base_url(self) -> str:
        return self.base_url + API_PREFIXES["meta"]

    @property
    def tiktok_api_base_url(self) -> str:
        return self.base_url + API_PREFIXES["tiktok"]

    @property
    def tiktok_display_api_base_url(self) -> str:
        return self.base_url + API_PREFIXES["tiktok_display"]

    @property
    def stripe_api_base_url(self) -> str:
        return self.base_url + API_PREFIXES["stripe"]

    @property
    def manifest(self) -> dict[str, Any]:
        return self.world.manifest

    def source_settings(self) -> dict[str, str]:
        """The settings (docs/REFERENCE.md, Settings) that point the real connectors at this server (placeholder
        tokens: the server only checks that one is sent, the way the vendors expect)."""
        accounts = self.manifest["accounts"]
        return {
            "META_ACCESS_TOKEN": "sample-meta-token",
            "META_AD_ACCOUNT_IDS": ",".join(accounts["meta_ad_account_ids"]),
            "META_API_BASE_URL": self.meta_api_base_url,
            "TIKTOK_ACCESS_TOKEN": "sample-tiktok-token",
            "TIKTOK_ADVERTISER_IDS": ",".join(accounts["tiktok_advertiser_ids"]),
            "TIKTOK_API_BASE_URL": self.tiktok_api_base_url,
            "TIKTOK_DISPLAY_ACCESS_TOKEN": "sample-tiktok-display-token",
            "TIKTOK_DISPLAY_API_BASE_URL": self.tiktok_display_api_base_url,
            "STRIPE_API_KEY": "sk_test_sample",
            "STRIPE_API_BASE_URL": self.stripe_api_base_url,
        }

    def inject(
        self,
        api: str,
        status: int,
        body: Any,
        *,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        self.world.inject(api, status, body, headers=headers, times=times)

    def start(self) -> SampleWorldServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, name="sample-world-server", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> SampleWorldServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
