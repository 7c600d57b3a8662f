"""The fake Meta Marketing API: `/act_{id}/insights` (level=ad, daily) and `/act_{id}/ads`,
with Meta's `after` cursors and `paging.next`, `filtering` on effective status, field
selection, usage headers and Graph API error bodies. Ads show the status they had at `now`."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from acd_sample_world.fake_apis.common import ApiError, FakeApi, Reply
from acd_sample_world.store import read_jsonl

INSIGHTS_ALWAYS = ("date_start", "date_stop")
META_HIDDEN_BY_DEFAULT = {"ARCHIVED", "DELETED"}


class MetaApi(FakeApi):
    """Meta's part of the sample world: its ad accounts and their ads' status history."""

    meta_accounts: set[str]
    meta_ads: dict[str, list[dict[str, Any]]]

    def _load_meta(self) -> None:
        self.meta_accounts = {
            acc.removeprefix("act_") for acc in self.manifest["accounts"]["meta_ad_account_ids"]
        }
        self.meta_ads = {acc: read_jsonl(self.files.meta_ads(acc)) for acc in self.meta_accounts}

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
        from acd_sample_world.payloads import meta_time

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
