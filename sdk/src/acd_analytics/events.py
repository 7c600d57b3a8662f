"""Validate and stamp one event (docs/REFERENCE.md, Tables the products write and Event contract), synchronously, before anything is queued.

An event travels through the SDK as an `EventRecord`, a plain tuple in the column order of
`shared_events` (minus the columns the warehouse or the consumer fills in): cheap to build,
cheap to hand to `COPY`, and written to the journal as one line of JSON (`encode_line`), the
form the DuckDB sink hands to DuckDB as is.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from json.encoder import encode_basestring_ascii
from typing import Any

PRODUCT_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
EVENT_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,127}$")
MAX_PAYLOAD_BYTES = 32 * 1024
MAX_FUTURE = timedelta(hours=24)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")

# (event_id, product, event_name, user_id, anonymous_id, session_id,
#  occurred_at as microseconds since the Unix epoch, properties JSON, context JSON)
EventRecord = tuple[str, str, str, str | None, str | None, str | None, int, str, str]

# An EventRecord followed by the three columns a relay such as the collector knows per event
# (the SDK knows them per batch): sent_at as microseconds since the epoch (or None),
# received_at as microseconds since the epoch, and library.
StampedRecord = tuple[
    str, str, str, str | None, str | None, str | None, int, str, str, int | None, int, str
]

# A row of `shared_events_rejected`: (rejected_id, product or None, received_at as
# microseconds since the epoch, source 'collector' | 'sdk', reason_code, reason, payload).
RejectedRecord = tuple[str, str | None, int, str, str, str, str]


class InvalidEvent(ValueError):
    """An event breaks the contract of docs/REFERENCE.md, Event contract; `field` names the offending field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


# ---------------------------------------------------------------------------------------------
# Property checks of the standard events (docs/REFERENCE.md, Standard events)

Check = Callable[[str, Any], None]


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | Decimal):
        return True
    return isinstance(value, float) and math.isfinite(value)


def _text(field: str, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidEvent(field, f"must be a non-empty string, got {value!r:.80}")


def _identifier(field: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise InvalidEvent(field, f"must be a non-empty string (or integer id), got {value!r:.80}")


def _non_negative_number(field: str, value: Any) -> None:
    if not _is_number(value) or value < 0:
        raise InvalidEvent(field, f"must be a number >= 0, got {value!r:.80}")


def _non_negative_int(field: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidEvent(field, f"must be an integer >= 0, got {value!r:.80}")


def _awareness_level(field: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise InvalidEvent(field, f"must be an integer from 1 to 5, got {value!r:.80}")


def _currency(field: str, value: Any) -> None:
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value):
        raise InvalidEvent(field, f"must be an ISO-4217 code such as 'USD', got {value!r:.80}")


def _ad_platform(field: str, value: Any) -> None:
    if value not in ("meta", "tiktok"):
        raise InvalidEvent(field, f"must be 'meta' or 'tiktok', got {value!r:.80}")


def _traits(field: str, value: Any) -> None:
    if not isinstance(value, Mapping):
        raise InvalidEvent(field, f"must be an object, got {type(value).__name__}")
    email = value.get("email")
    if email is not None and not isinstance(email, str):
        raise InvalidEvent(f"{field}.email", f"must be a string, got {email!r:.80}")


# event name -> (required {property: check}, optional {property: check})
STANDARD_EVENTS: dict[str, tuple[dict[str, Check], dict[str, Check]]] = {
    "page_viewed": ({}, {}),
    "waitlist_joined": ({"waitlist_id": _identifier}, {}),
    "signup_completed": ({"method": _text}, {}),
    "trial_started": ({"plan": _text}, {}),
    "purchase_completed": (
        {"revenue": _non_negative_number, "currency": _currency},
        {"stripe_charge_id": _text, "stripe_invoice_id": _text, "plan": _text},
    ),
    "subscription_canceled": ({"plan": _text}, {}),
    "identify": ({"traits": _traits}, {}),
    "alias": ({"previous_id": _identifier}, {}),
    "hook_generated": (
        {
            "hook_id": _identifier,
            "hook_text": _text,
            "awareness_level": _awareness_level,
            "angle": _text,
        },
        {"template": _text},
    ),
    "ad_published": (
        {"platform": _ad_platform, "platform_ad_id": _identifier},
        {"hook_id": _identifier, "asset_id": _identifier, "campaign_id": _identifier},
    ),
    "video_generated": (
        {"duration_s": _non_negative_number, "template": _text},
        {"asset_id": _identifier, "awareness_level": _awareness_level},
    ),
    "content_published": ({"platform": _text, "post_id": _identifier}, {"asset_id": _identifier}),
    "ai_generation": (
        {
            "provider": _text,
            "model": _text,
            "input_tokens": _non_negative_int,
            "output_tokens": _non_negative_int,
        },
        {"estimated_tokens": _non_negative_int},
    ),
}


def check_standard_properties(event_name: str, properties: Mapping[str, Any]) -> None:
    rules = STANDARD_EVENTS.get(event_name)
    if rules is None:
        return
    required, optional = rules
    for name, check in required.items():
        if name not in properties or properties[name] is None:
            raise InvalidEvent(f"properties.{name}", f"is required for {event_name!r} events")
        check(f"properties.{name}", properties[name])
    for name, check in optional.items():
        value = properties.get(name)
        if value is not None:
            check(f"properties.{name}", value)


# ---------------------------------------------------------------------------------------------
# Generic checks


def check_product(product: Any, field: str = "product") -> str:
    if product is None:
        raise InvalidEvent(field, "is required: pass product= or set ACD_PRODUCT")
    if not isinstance(product, str) or not PRODUCT_PATTERN.fullmatch(product):
        raise InvalidEvent(field, f"must match {PRODUCT_PATTERN.pattern}, got {product!r:.80}")
    return product


def check_event_name(event_name: Any) -> str:
    if not isinstance(event_name, str) or not EVENT_NAME_PATTERN.fullmatch(event_name):
        raise InvalidEvent(
            "event_name",
            f"must be snake_case matching {EVENT_NAME_PATTERN.pattern}, got {event_name!r:.80}",
        )
    return event_name


def _optional_text(field: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidEvent(field, f"must be a string, got {type(value).__name__}")
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# The C encoder behind json.dumps, without the Python layers around it (a third of the cost):
# compact, non-ASCII kept, NaN and infinities refused, no circular check (RecursionError).
_c_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
if _c_make_encoder is not None:
    _encode_chunks: Any = _c_make_encoder(
        None, _json_default, json.encoder.encode_basestring, None, ":", ",", False, False, False
    )
else:  # pragma: no cover - CPython always has the C encoder
    _encode_chunks = json.JSONEncoder(
        ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_json_default
    ).iterencode


def _stdlib_dumps(value: Any) -> str:
    return "".join(_encode_chunks(value, 0))


# orjson, when installed, writes the same JSON several times faster. What it treats
# differently goes to the stdlib encoder, which decides as before:
# - what orjson refuses (float subclasses, non-str keys, integers past 64 bits, surrogates,
#   nesting past 254 levels) is encoded by the stdlib encoder;
# - datetimes and dataclasses are passed to `_json_default`, as the stdlib encoder does
#   (OPT_PASSTHROUGH_*); enums are their value in both;
# - orjson writes NaN and infinities as `null` where the stdlib encoder refuses them: a text
#   holding `null` is encoded again by the stdlib encoder (unless `finite`: values parsed
#   from JSON text, as the collector's are, cannot be NaN).
# Keys keep their order and non-ASCII text stays as it is in both; the one difference left is
# the notation of floats below 1e-4 (`1e-7` for `1e-07`, `0.00001` for `1e-05`): the same
# numbers (sdk/tests/test_events.py compares the two encoders).
_orjson: Any
try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - the SDK needs no dependency
    _orjson = None
_ORJSON_OPTIONS = (
    0 if _orjson is None else _orjson.OPT_PASSTHROUGH_DATETIME | _orjson.OPT_PASSTHROUGH_DATACLASS
)


def _dumps(value: Any, finite: bool = False) -> str:
    """`value` as compact JSON text (see above); raises TypeError, ValueError, RecursionError.
    `finite`: `value` holds no NaN or infinity (it was parsed from JSON text)."""
    if _orjson is not None:
        try:
            data = _orjson.dumps(value, _json_default, _ORJSON_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError: the stdlib encoder decides
            return _stdlib_dumps(value)
        if not finite and b"null" in data:
            return _stdlib_dumps(value)  # refuses NaN and infinities
        return data.decode()
    return _stdlib_dumps(value)


def _to_json(field: str, value: Any, finite: bool = False) -> str:
    if value is None:
        return "{}"
    if value.__class__ is not dict and not isinstance(value, Mapping):
        raise InvalidEvent(field, f"must be an object (dict), got {type(value).__name__}")
    try:
        return _dumps(value, finite)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidEvent(field, f"must be JSON-serializable: {exc}") from None


def _utf8_length(field: str, text: str) -> int:
    if text.isascii():
        return len(text)
    try:
        return len(text.encode())
    except UnicodeEncodeError as exc:
        raise InvalidEvent(field, f"holds text that is not valid Unicode: {exc.reason}") from None


def occurred_at_micros(occurred_at: Any) -> int:
    """Microseconds since the Unix epoch of an aware datetime (now when None)."""
    if occurred_at is None:
        return time.time_ns() // 1000
    if not isinstance(occurred_at, datetime):
        raise InvalidEvent("occurred_at", f"must be a datetime, got {type(occurred_at).__name__}")
    if occurred_at.tzinfo is None or occurred_at.utcoffset() is None:
        raise InvalidEvent(
            "occurred_at",
            "must be timezone-aware (e.g. datetime.now(timezone.utc)), got a naive datetime",
        )
    if occurred_at - datetime.now(UTC) > MAX_FUTURE:
        raise InvalidEvent(
            "occurred_at", f"is more than 24 hours in the future: {occurred_at.isoformat()}"
        )
    return (occurred_at - _EPOCH) // _MICROSECOND


def new_event_id() -> str:
    """A random (version 4) UUID as text, about twice as fast as `str(uuid.uuid4())`."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# A UUID already in its canonical text form, which needs no parsing (the common case).
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def check_event_id(event_id: Any) -> str:
    if event_id is None:
        return new_event_id()
    if isinstance(event_id, uuid.UUID):
        return str(event_id)
    if isinstance(event_id, str):
        if _CANONICAL_UUID.fullmatch(event_id):
            return event_id
        try:
            return str(uuid.UUID(event_id))
        except ValueError:
            pass
    raise InvalidEvent("event_id", f"must be a UUID, got {event_id!r:.80}")


def check_payload(
    event_name: str,
    properties: Mapping[str, Any] | None,
    context: Mapping[str, Any] | None,
    *,
    from_json: bool = False,
) -> tuple[str, str]:
    """The properties and context of an event (its name already checked) as JSON text: each an
    object that serializes, the standard event's properties present and valid, both together
    at most 32 KB. Raises `InvalidEvent` naming the field. `build_record` and the collector
    (`collector.wire`) both validate through here; `from_json`: every value was parsed from
    JSON text (so none is NaN or infinite), as the collector's are."""
    if properties is None:
        properties_json = "{}"
    elif properties.__class__ is dict:
        try:
            properties_json = _dumps(properties, from_json)
        except (TypeError, ValueError, RecursionError) as exc:
            raise InvalidEvent("properties", f"must be JSON-serializable: {exc}") from None
    else:
        properties_json = _to_json("properties", properties, from_json)
    if event_name in STANDARD_EVENTS:
        check_standard_properties(event_name, properties or {})
    context_json = "{}" if context is None else _to_json("context", context, from_json)
    if len(properties_json) + len(context_json) > MAX_PAYLOAD_BYTES // 4:
        # UTF-8 takes at most 4 bytes per character: only then is counting bytes needed.
        size = _utf8_length("properties", properties_json) + _utf8_length("context", context_json)
        if size > MAX_PAYLOAD_BYTES:
            raise InvalidEvent(
                "properties",
                f"properties and context serialize to {size} bytes, over the 32 KB limit",
            )
    return properties_json, context_json


def known_event_name(event_name: Any) -> str:
    """`check_event_name`, with the names already seen (at most 10,000) remembered."""
    if event_name.__class__ is not str or event_name not in _KNOWN_NAMES:
        check_event_name(event_name)
        if len(_KNOWN_NAMES) < 10_000:
            _KNOWN_NAMES.add(event_name)
    return event_name


def build_record(
    product: str,
    event_name: Any,
    properties: Mapping[str, Any] | None,
    user_id: Any,
    anonymous_id: Any,
    session_id: Any,
    occurred_at: datetime | None,
    event_id: Any,
    context: Mapping[str, Any] | None,
) -> EventRecord:
    """Validate one event and return its record; raises `InvalidEvent` naming the field.

    `product` must already be checked (the client caches that check). This runs on every
    `track` call, so the common case (plain strings, a dict of properties) is kept inline.
    """
    if event_name.__class__ is not str or event_name not in _KNOWN_NAMES:
        known_event_name(event_name)
    if user_id is not None and (user_id.__class__ is not str or not user_id):
        user_id = _optional_text("user_id", user_id)
    if anonymous_id is not None and (anonymous_id.__class__ is not str or not anonymous_id):
        anonymous_id = _optional_text("anonymous_id", anonymous_id)
    if user_id is None and anonymous_id is None:
        raise InvalidEvent("user_id", "one of user_id or anonymous_id is required")
    if session_id is not None and (session_id.__class__ is not str or not session_id):
        session_id = _optional_text("session_id", session_id)
    properties_json, context_json = check_payload(event_name, properties, context)
    return (
        new_event_id() if event_id is None else check_event_id(event_id),
        product,
        event_name,
        user_id,
        anonymous_id,
        session_id,
        time.time_ns() // 1000 if occurred_at is None else occurred_at_micros(occurred_at),
        properties_json,
        context_json,
    )


_KNOWN_NAMES: set[str] = set(STANDARD_EVENTS)


# ---------------------------------------------------------------------------------------------
# Journal lines: one JSON array per event, ASCII only, no newline inside.


def _quote(value: str | None) -> str:
    return "null" if value is None else encode_basestring_ascii(value)


def encode_line(record: EventRecord) -> bytes:
    eid, product, name, user_id, anonymous_id, session_id, micros, props, ctx = record
    return (
        f'["{eid}","{product}","{name}",{_quote(user_id)},{_quote(anonymous_id)},'
        f"{_quote(session_id)},{micros},{encode_basestring_ascii(props)},"
        f"{encode_basestring_ascii(ctx)}]\n"
    ).encode("ascii")


def encode_stamped_line(record: StampedRecord) -> bytes:
    """The journal line of a stamped record: `encode_line`'s array with three more fields."""
    eid, product, name, user_id, anonymous_id, session_id, micros, props, ctx = record[:9]
    sent_us, received_us, library = record[9], record[10], record[11]
    return (
        f'["{eid}","{product}","{name}",{_quote(user_id)},{_quote(anonymous_id)},'
        f"{_quote(session_id)},{micros},{encode_basestring_ascii(props)},"
        f"{encode_basestring_ascii(ctx)},{'null' if sent_us is None else sent_us},"
        f"{received_us},{encode_basestring_ascii(library)}]\n"
    ).encode("ascii")


def decode_line(line: bytes) -> EventRecord:
    """The record of one journal line; raises ValueError if the line is torn or foreign."""
    value = json.loads(line)
    if not isinstance(value, list) or len(value) != 9:
        raise ValueError("not an acd-analytics journal line")
    record: EventRecord = tuple(value)
    return record
