"""The fake Stripe API: `GET /v1/{resource}` lists and objects, `subscription_items`, invoice
lines and charge refunds, with `starting_after`/`ending_before` paging, `created[…]` filters,
Bearer-key checks and Stripe's error bodies. Lists show only objects created at or before `now`
(in their final state), and events of the 30 days before it."""

from __future__ import annotations

import bisect
import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

from acd_sample_world.fake_apis.common import ApiError, FakeApi, Reply
from acd_sample_world.store import STRIPE_RESOURCES, WorldFiles

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


class StripeApi(FakeApi):
    """Stripe's part of the sample world: an index per resource, read on first use."""

    _stripe: dict[str, _StripeIndex]

    def _load_stripe(self) -> None:
        self._stripe = {}

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


def _type_matches(event_type: str, pattern: str) -> bool:
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return event_type == pattern
