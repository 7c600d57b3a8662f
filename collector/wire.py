"""The Segment wire format, parsed: a request body into messages, a message into a row.

Pure functions, no I/O: what arrives is turned into a `StampedRecord` for `shared_events` or a
`Rejection` that names the field (docs/COLLECTOR.md, "From a message to a row"). Validation
of names, ids and properties is the SDK's (`acd_analytics.events`), so the collector accepts
exactly what `track_event` accepts.
"""

from __future__ import annotations

import hashlib
import re
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from acd_analytics.events import (
    MAX_FUTURE,
    MAX_PAYLOAD_BYTES,
    InvalidEvent,
    StampedRecord,
    check_payload,
    known_event_name,
    new_event_id,
)

MAX_MESSAGE_BYTES = MAX_PAYLOAD_BYTES  # 32 KB per message, serialized
MAX_BODY_BYTES = 500 * 1024  # per request, after decompression
MAX_BATCH_MESSAGES = 2500
MAX_MESSAGE_ID_CHARS = 100
MAX_DEPTH = 32
MAX_EVENT_NAME_CHARS = 128
DEFAULT_LIBRARY = "http"

# Non-UUID message ids map to UUIDv5(product + "\n" + messageId) in this namespace. Never
# change it: the same message re-sent must map to the same event_id.
MESSAGE_ID_NAMESPACE = uuid.UUID("a3c1d7e0-5b1f-4c38-9a0e-21c0c0ec7021")
_NAMESPACE_BYTES = MESSAGE_ID_NAMESPACE.bytes

CALL_TYPES = ("track", "page", "screen", "identify", "alias", "group")
SHORT_TYPES = {name[0]: name for name in CALL_TYPES}
_EVENT_NAMES = {
    "page": "page_viewed",
    "screen": "screen_viewed",
    "identify": "identify",
    "alias": "alias",
    "group": "group",
}
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BadRequest(ValueError):
    """The whole request is refused with 400 and this `code`; the message names the field."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Rejection:
    """One message that cannot be stored: why, and the raw message (cut to 32 KB)."""

    code: str
    reason: str
    payload: str


@dataclass(frozen=True)
class RequestInfo:
    """What is known of the request, apart from its messages."""

    product: str
    received_at: datetime
    client_ip: str | None = None
    batch_context: Mapping[str, Any] | None = None
    batch_sent_at: Any = None
    received_us: int = field(init=False)
    # sentAt text → its datetime: one request's messages share it (the batch's, or one value
    # the client stamped on every message at sending), so each request parses it once.
    _sent_at: dict[str, datetime | None] = field(
        init=False, default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "received_us", (self.received_at - _EPOCH) // _MICROSECOND)

    def sent_at(self, raw: Any) -> datetime | None:
        """`sentAt` parsed (the batch's when `raw` is empty); raises `InvalidEvent`."""
        if raw is None or raw == "":
            raw = self.batch_sent_at
        if raw.__class__ is not str:
            return parse_timestamp("sentAt", raw)
        try:
            return self._sent_at[raw]
        except KeyError:
            parsed = self._sent_at[raw] = parse_timestamp("sentAt", raw)
            return parsed


_MICROSECOND = timedelta(microseconds=1)


# ---------------------------------------------------------------------------------------------
# Bodies


class BoundedInflater:
    """Inflates a gzip body chunk by chunk and refuses it as soon as it passes `limit` bytes,
    without inflating the rest (a small bomb cannot cost more than `limit` of memory)."""

    def __init__(self, limit: int = MAX_BODY_BYTES) -> None:
        self._limit = limit
        self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._parts: list[bytes] = []
        self._size = 0

    def feed(self, chunk: bytes) -> None:
        data = chunk
        while data:
            try:
                out = self._inflater.decompress(data, self._limit - self._size + 1)
            except zlib.error as exc:
                raise BadRequest("invalid_json", f"body: not valid gzip ({exc})") from None
            self._take(out)
            data = self._inflater.unconsumed_tail
            if self._inflater.eof:
                return

    def finish(self) -> bytes:
        try:
            self._take(self._inflater.flush())
        except zlib.error as exc:
            raise BadRequest("invalid_json", f"body: not valid gzip ({exc})") from None
        if not self._inflater.eof:
            raise BadRequest("invalid_json", "body: the gzip stream is truncated")
        return b"".join(self._parts)

    def _take(self, out: bytes) -> None:
        self._size += len(out)
        if self._size > self._limit:
            raise BadRequest(
                "payload_too_large",
                f"body: inflates to more than {self._limit // 1024} KB, the request limit",
            )
        self._parts.append(out)


def parse_json(body: bytes, *, check_depth: bool = True) -> Any:
    """The JSON value of a body: UTF-8, at most `MAX_DEPTH` levels deep (unless `check_depth`
    is False: then the caller checks with `check_batch_depth`)."""
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest(
            "payload_too_large", f"body: {len(body)} bytes, over the 500 KB request limit"
        )
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest("invalid_json", f"body: not UTF-8 JSON ({exc})") from None
    # Deeper than the limit needs more brackets than the limit: count before walking.
    if check_depth and _brackets(body) > MAX_DEPTH and _too_deep(value, MAX_DEPTH):
        raise _too_deep_error()
    return value


def check_batch_depth(value: Any, body: bytes) -> list[bytes] | None:
    """`parse_json`'s depth check for a body parsed with `check_depth=False`; for a batch, also
    each message serialized (`parse_message` takes them rather than serializing again).

    A value nests no deeper than its JSON text has brackets, so a batch whose every message
    serializes with at most `MAX_DEPTH - 2` brackets is walked only outside its messages
    (a walk over every value of every message is a tenth of a batch's handling)."""
    batch = value.get("batch") if type(value) is dict else None
    if type(batch) is not list:
        if _brackets(body) > MAX_DEPTH and _too_deep(value, MAX_DEPTH):
            raise _too_deep_error()
        return None
    try:
        texts = [orjson.dumps(message) for message in batch]
    except orjson.JSONEncodeError:  # past orjson's own depth limit (254)
        raise _too_deep_error() from None
    if max(map(_brackets, texts), default=0) > MAX_DEPTH - 2:
        deep = _too_deep(value, MAX_DEPTH)
    else:  # the batch array and its messages are at most MAX_DEPTH - 1 + 1 levels
        deep = _too_deep({key: item for key, item in value.items() if key != "batch"}, MAX_DEPTH)
    if deep:
        raise _too_deep_error()
    return texts


def _brackets(text: bytes) -> int:
    return text.count(b"[") + text.count(b"{")


def _too_deep_error() -> BadRequest:
    return BadRequest("invalid_json", f"body: JSON nested deeper than {MAX_DEPTH} levels")


def _too_deep(value: Any, limit: int) -> bool:
    """Whether `value` (as orjson parsed it: exact dicts and lists) nests deeper than `limit`.

    Level by level, comparing types by identity: it runs on every batch body."""
    level = [value] if type(value) in (dict, list) else []
    depth = 1
    while level:
        below = [
            child
            for item in level
            for child in (item.values() if type(item) is dict else item)
            if type(child) in (dict, list)
        ]
        if below and depth == limit:
            return True
        level, depth = below, depth + 1
    return False


def body_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest("invalid_json", f"body: must be a JSON object, got {_type_name(value)}")
    return value


def batch_messages(body: dict[str, Any]) -> list[Any]:
    """The messages of a batch body; refuses a request with too many."""
    batch = body.get("batch")
    if not isinstance(batch, list):
        raise BadRequest("invalid_json", f"batch: must be an array, got {_type_name(batch)}")
    if len(batch) > MAX_BATCH_MESSAGES:
        raise BadRequest(
            "too_many_messages",
            f"batch: {len(batch)} messages, over the limit of {MAX_BATCH_MESSAGES} per request",
        )
    return batch


def write_key_in_body(body: Mapping[str, Any]) -> str | None:
    key = body.get("writeKey")
    return key if isinstance(key, str) and key else None


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", type(None): "null"}.get(
        type(value), type(value).__name__
    )


# ---------------------------------------------------------------------------------------------
# One message


def normalize_event_name(event: str) -> str:
    """`"Order Completed"` → `order_completed`: lower-cased, runs outside [a-z0-9] → `_`,
    `_` trimmed at both ends, `e_` before a leading digit, cut to 128 characters."""
    name = _NOT_ALNUM.sub("_", event.lower()).strip("_")
    if name[:1].isdigit():
        name = "e_" + name
    return name[:MAX_EVENT_NAME_CHARS].rstrip("_")


def event_id_for(product: str, message_id: Any) -> str:
    if message_id is None or message_id == "":
        return new_event_id()
    if message_id.__class__ is str:
        text = message_id
    elif isinstance(message_id, bool) or not isinstance(message_id, str | int):
        raise InvalidEvent("messageId", f"must be a string, got {_type_name(message_id)}")
    else:
        text = str(message_id)
    if len(text) > MAX_MESSAGE_ID_CHARS:
        raise InvalidEvent(
            "messageId", f"is {len(text)} characters long, over the limit of {MAX_MESSAGE_ID_CHARS}"
        )
    if len(text) == 36 and _UUID.fullmatch(text):
        return text.lower()
    return _uuid5(f"{product}\n{text}")


_NAMESPACE_SHA1 = hashlib.sha1(_NAMESPACE_BYTES)
# The UUID variant (RFC 9562: binary 10xx) of each hex digit's low two bits.
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def _uuid5(name: str) -> str:
    """`str(uuid.uuid5(MESSAGE_ID_NAMESPACE, name))`, from the namespace's SHA-1 state and the
    digest's hex text, without building UUID objects (every non-UUID messageId of
    analytics-next and analytics-node comes here)."""
    sha1 = _NAMESPACE_SHA1.copy()
    sha1.update(name.encode())
    h = sha1.hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


def parse_timestamp(field_name: str, value: Any) -> datetime | None:
    """An ISO-8601 timestamp (UTC when it has no offset); None when absent."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidEvent(field_name, f"must be an ISO-8601 string, got {_type_name(value)}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidEvent(field_name, f"is not an ISO-8601 timestamp: {value!r:.80}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _id_text(field_name: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise InvalidEvent(field_name, f"must be a string or a number, got {_type_name(value)}")


def _object(field_name: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidEvent(field_name, f"must be an object, got {_type_name(value)}")
    return value


def _properties(call_type: str, message: Mapping[str, Any]) -> dict[str, Any]:
    if call_type == "track":
        return _object("properties", message.get("properties"))
    if call_type in ("page", "screen"):
        properties = dict(_object("properties", message.get("properties")))
        for key in ("name", "category"):
            if message.get(key) is not None:
                properties[key] = message[key]
        return properties
    if call_type == "identify":
        return {"traits": _object("traits", message.get("traits"))}
    if call_type == "alias":
        return {"previous_id": _id_text("previousId", message.get("previousId"))}
    return {  # group
        "group_id": _id_text("groupId", message.get("groupId")),
        "traits": _object("traits", message.get("traits")),
    }


def _event_name(call_type: str, message: Mapping[str, Any]) -> str:
    if call_type != "track":
        return _EVENT_NAMES[call_type]
    event: Any = message.get("event")
    try:
        return _TRACK_NAMES[event]
    except (KeyError, TypeError):
        pass
    if event is None or event == "":
        raise InvalidEvent("event", "is required for track calls")
    if not isinstance(event, str):
        raise InvalidEvent("event", f"must be a string, got {_type_name(event)}")
    name = normalize_event_name(event)
    if not name:
        raise InvalidEvent("event", f"has no letter or digit to name the event: {event!r:.80}")
    known_event_name(name)  # the SDK's rule; a normalized name always meets it
    if len(_TRACK_NAMES) < 10_000:
        _TRACK_NAMES[event] = name
    return name


# `event` as sent → its checked event name: a product sends a few hundred names at most.
_TRACK_NAMES: dict[str, str] = {}


def _context(message: Mapping[str, Any], info: RequestInfo) -> dict[str, Any]:
    own = _object("context", message.get("context"))
    context = {**info.batch_context, **own} if info.batch_context else dict(own)
    if "userAgent" in context:
        user_agent = context.pop("userAgent")
        context.setdefault("user_agent", user_agent)
    if not context.get("ip") and info.client_ip:
        context["ip"] = info.client_ip
    return context


def _library(context: Mapping[str, Any]) -> str:
    library = context.get("library")
    if isinstance(library, dict):
        name, version = library.get("name"), library.get("version")
        if isinstance(name, str) and name and isinstance(version, str | int | float):
            return f"{name}/{version}"[:200]
    return DEFAULT_LIBRARY


def _occurred_at(
    message: Mapping[str, Any], info: RequestInfo, context: dict[str, Any]
) -> tuple[int, int | None]:
    """(occurred_at, sent_at) in microseconds since the epoch: the client's clock corrected by
    its skew at sending."""
    raw = message.get("timestamp")
    field_name = "timestamp"
    if raw is None or raw == "":
        raw, field_name = message.get("originalTimestamp"), "originalTimestamp"
    original = parse_timestamp(field_name, raw)
    sent = info.sent_at(message.get("sentAt"))
    received = info.received_at
    try:
        if original is not None and sent is not None:
            occurred = received - (sent - original)
        else:
            occurred = original if original is not None else received
    except OverflowError:
        raise InvalidEvent(field_name, f"is out of range: {raw!r:.80}") from None
    if occurred - received > MAX_FUTURE:
        context["original_timestamp"] = raw
        occurred = received
    if occurred.year < 1900:
        raise InvalidEvent(field_name, f"is before 1900: {raw!r:.80}")
    occurred_us = info.received_us if occurred is received else (occurred - _EPOCH) // _MICROSECOND
    return occurred_us, None if sent is None else (sent - _EPOCH) // _MICROSECOND


def message_record(message: Any, call_type: str | None, info: RequestInfo) -> StampedRecord:
    """The `shared_events` row of one message; raises `InvalidEvent` naming the field.

    `call_type` comes from the path (`/v1/track`…); None for a batch item, whose `type` says.
    `message` is parsed JSON (so no value in it is NaN); its properties and context are
    validated and serialized by the SDK (`check_payload`).
    """
    if not isinstance(message, dict):
        raise InvalidEvent("message", f"must be an object, got {_type_name(message)}")
    if call_type is None:
        kind = message.get("type")
        if kind not in CALL_TYPES:
            if not isinstance(kind, str) or kind.lower() not in CALL_TYPES:
                raise InvalidEvent(
                    "type", f"must be one of {', '.join(CALL_TYPES)}, got {kind!r:.40}"
                )
            kind = kind.lower()
        call_type = kind
    event_name = _event_name(call_type, message)
    properties = _properties(call_type, message)
    user_id = message.get("userId")
    if user_id is not None and (user_id.__class__ is not str or not user_id):
        user_id = _id_text("userId", user_id)
    anonymous_id = message.get("anonymousId")
    if anonymous_id is not None and (anonymous_id.__class__ is not str or not anonymous_id):
        anonymous_id = _id_text("anonymousId", anonymous_id)
    if user_id is None and anonymous_id is None:
        raise InvalidEvent("userId", "one of userId or anonymousId is required")
    context = _context(message, info)
    occurred_us, sent_us = _occurred_at(message, info, context)
    event_id = event_id_for(info.product, message.get("messageId"))
    properties_json, context_json = check_payload(event_name, properties, context, from_json=True)
    if "\\u0000" in properties_json or "\\u0000" in context_json:
        raise InvalidEvent("properties", "holds a NUL character (\\u0000), which cannot be stored")
    if "\x00" in (user_id or "") or "\x00" in (anonymous_id or ""):
        raise InvalidEvent("userId", "holds a NUL character, which cannot be stored")
    return (
        event_id,
        info.product,
        event_name,
        user_id,
        anonymous_id,
        None,
        occurred_us,
        properties_json,
        context_json,
        sent_us,
        info.received_us,
        _library(context),
    )


def check_message_size(message: Any, serialized: bytes | None = None) -> bytes:
    """The message serialized (`serialized` when given); raises `MessageTooLarge` when it is
    over 32 KB."""
    if serialized is None:
        serialized = orjson.dumps(message)
    if len(serialized) > MAX_MESSAGE_BYTES:
        raise MessageTooLarge(
            "message", f"serializes to {len(serialized)} bytes, over the 32 KB limit per message"
        )
    return serialized


class MessageTooLarge(InvalidEvent):
    """A message over 32 KB serialized (reason code `payload_too_large`)."""


def rejection(message: Any, exc: InvalidEvent, raw: str | None = None) -> Rejection:
    if raw is None:
        try:
            raw = orjson.dumps(message).decode()
        except TypeError:
            raw = repr(message)
    code = "payload_too_large" if isinstance(exc, MessageTooLarge) else "invalid_message"
    return Rejection(code=code, reason=_printable(str(exc)), payload=_cut(raw))


def _cut(text: str) -> str:
    data = text.encode(errors="replace")
    if len(data) > MAX_MESSAGE_BYTES:
        text = data[:MAX_MESSAGE_BYTES].decode(errors="ignore")
    return _printable(text)


def _printable(text: str) -> str:
    return text.replace("\x00", "\ufffd")


def parse_message(
    message: Any, call_type: str | None, info: RequestInfo, serialized: bytes | None = None
) -> StampedRecord | Rejection:
    """A row, or the rejection of the message with its reason. `serialized`: the message as
    `orjson.dumps` writes it, when the caller has it (`check_batch_depth`)."""
    try:
        serialized = check_message_size(message, serialized)
        return message_record(message, call_type, info)
    except InvalidEvent as exc:
        return rejection(message, exc, None if serialized is None else serialized.decode())
