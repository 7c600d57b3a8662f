"""The fake TikTok APIs: the Business API (`/report/integrated/get`, `/ad/get`, with its
`code`/`message`/`request_id` envelope and `page`/`page_size` paging) and the Display API
(`POST /video/list/`, `cursor`/`has_more`, each video's counters as of `now`)."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from typing import Any

from acd_sample_world.fake_apis.common import ApiError, FakeApi, Reply
from acd_sample_world.store import read_jsonl


class TikTokApi(FakeApi):
    """The TikTok Business API's part: its advertisers, their daily reports and ads."""

    tiktok_advertisers: set[str]
    tiktok_ads: dict[str, list[dict[str, Any]]]

    def _load_tiktok(self) -> None:
        self.tiktok_advertisers = set(self.manifest["accounts"]["tiktok_advertiser_ids"])
        self.tiktok_ads = {
            adv: read_jsonl(self.files.tiktok_ads(adv)) for adv in self.tiktok_advertisers
        }

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
        from acd_sample_world.payloads import tiktok_time

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


class TikTokDisplayApi(FakeApi):
    """The TikTok Display API's part: the connected account's organic videos."""

    videos: list[dict[str, Any]]

    def _load_display(self) -> None:
        self.videos = read_jsonl(self.files.tiktok_videos)

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
