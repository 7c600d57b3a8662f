"""Write keys: one per product, stored only as a SHA-256 hash in `collector_write_keys`.

A key is `acdwk_` followed by 32 random bytes in URL-safe base64; its `key_id` (`wk_…`) is
what `keys list` shows and `keys revoke` takes. The collector looks keys up through
`KeyStore`, which caches answers (a revocation reaches a running collector within
`ttl` seconds) and keeps serving a cached key while the warehouse cannot be read.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from acd_analytics.events import InvalidEvent, check_product
from acd_analytics.warehouse_url import WarehouseTarget

from serving.keys import hash_key, new_key, new_key_id
from serving.keys import placeholder as _param
from warehouse_db.connection import connect, transaction

__all__ = [
    "KeyStore",
    "WriteKey",
    "create_key",
    "hash_key",
    "list_keys",
    "lookup_key",
    "revoke_key",
]

KEY_PREFIX = "acdwk_"


class WriteKeyError(ValueError):
    """A keys command cannot do what was asked; the message says why."""


class KeyStoreUnavailable(RuntimeError):
    """The warehouse could not be read to check a key that is not cached."""


@dataclass(frozen=True)
class WriteKey:
    key_id: str
    product: str
    allowed_origins: tuple[str, ...]
    created_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def allows_origin(self, origin: str | None) -> bool:
        """No `Origin` header (a server) or no list: allowed; else the origin must be listed."""
        if not self.allowed_origins or not origin:
            return True
        return origin.rstrip("/") in self.allowed_origins


def _origins(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = json.loads(value)
    return tuple(str(origin) for origin in value or ())


def create_key(target: WarehouseTarget, product: str, origins: list[str]) -> tuple[WriteKey, str]:
    """Store a new key for `product`; return it with the key itself (shown once, never stored)."""
    try:
        check_product(product)
    except InvalidEvent as exc:
        raise WriteKeyError(f"--product {exc}") from None
    cleaned = []
    for origin in origins:
        if not origin.startswith(("http://", "https://")) or "/" in origin.split("://", 1)[
            1
        ].rstrip("/"):
            raise WriteKeyError(f"--origin must look like https://app.example.com, got {origin!r}")
        cleaned.append(origin.rstrip("/"))
    key = new_key(KEY_PREFIX)
    key_id = new_key_id("wk_")
    p = _param(target)
    with connect(target) as conn, transaction(conn):
        conn.execute(
            "insert into collector_write_keys (key_id, key_sha256, product, allowed_origins) "
            f"values ({p}, {p}, {p}, {p})",
            (key_id, hash_key(key), product, json.dumps(cleaned)),
        )
    return WriteKey(key_id=key_id, product=product, allowed_origins=tuple(cleaned)), key


def list_keys(target: WarehouseTarget) -> list[WriteKey]:
    with connect(target) as conn:
        rows = conn.execute(
            "select key_id, product, allowed_origins, created_at, revoked_at "
            "from collector_write_keys order by created_at, key_id"
        ).fetchall()
    return [
        WriteKey(
            key_id=row[0],
            product=row[1],
            allowed_origins=_origins(row[2]),
            created_at=row[3],
            revoked_at=row[4],
        )
        for row in rows
    ]


def revoke_key(target: WarehouseTarget, key_id: str) -> WriteKey:
    p = _param(target)
    with connect(target) as conn, transaction(conn):
        rows = conn.execute(
            "select key_id, product, allowed_origins, created_at, revoked_at "
            f"from collector_write_keys where key_id = {p}",
            (key_id,),
        ).fetchall()
        if not rows:
            raise WriteKeyError(f"no write key {key_id!r} (see `acd-warehouse keys list`)")
        conn.execute(
            "update collector_write_keys set revoked_at = current_timestamp "
            f"where key_id = {p} and revoked_at is null",
            (key_id,),
        )
    row = rows[0]
    return WriteKey(row[0], row[1], _origins(row[2]), row[3], row[4])


def lookup_key(target: WarehouseTarget, key: str) -> WriteKey | None:
    """The key's row (revoked or not), or None when no such key exists."""
    p = _param(target)
    with connect(target) as conn:
        rows = conn.execute(
            "select key_id, product, allowed_origins, created_at, revoked_at "
            f"from collector_write_keys where key_sha256 = {p}",
            (hash_key(key),),
        ).fetchall()
    if not rows:
        return None
    row = rows[0]
    return WriteKey(row[0], row[1], _origins(row[2]), row[3], row[4])


LOOKUP_PATIENCE_S = 2.0  # how long a key lookup waits for a busy DuckDB file
LOOKUP_RETRY_S = 0.05


class KeyStore:
    """Cached `lookup_key`, safe to call from many threads.

    Known keys are cached for `ttl` seconds, unknown ones for `negative_ttl`; when the
    warehouse cannot be read, a key seen before keeps its last answer, and a new key's lookup
    waits up to LOOKUP_PATIENCE_S for a DuckDB file another process holds.
    """

    def __init__(self, target: WarehouseTarget, ttl: float = 30.0, negative_ttl: float = 5.0):
        self._target = target
        self._ttl = ttl
        self._negative_ttl = negative_ttl
        self._cache: dict[str, tuple[float, WriteKey | None]] = {}
        self._lock = threading.Lock()

    def cached(self, key: str) -> tuple[bool, WriteKey | None]:
        """(fresh, answer) from the cache alone; `fresh` False means a lookup is due."""
        entry = self._cache.get(hash_key(key))
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def lookup(self, key: str) -> WriteKey | None:
        digest = hash_key(key)
        entry = self._cache.get(digest)
        now = time.monotonic()
        if entry is not None and entry[0] >= now:
            return entry[1]
        # A DuckDB file is held for moments by other processes (a build, a reader): for a key
        # with no answer to fall back on, try again for a little while before a 503.
        may_wait = self._target.backend == "duckdb" and entry is None
        deadline = now + (LOOKUP_PATIENCE_S if may_wait else 0.0)
        while True:
            try:
                found = lookup_key(self._target, key)
                break
            except Exception as exc:
                if time.monotonic() < deadline:
                    time.sleep(LOOKUP_RETRY_S)
                    continue
                if entry is not None:
                    return entry[1]
                raise KeyStoreUnavailable(
                    f"cannot read the write keys from {self._target.redacted()}: "
                    f"{type(exc).__name__}"
                ) from None
        ttl = self._ttl if found is not None else self._negative_ttl
        with self._lock:
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[digest] = (now + ttl, found)
        return found
