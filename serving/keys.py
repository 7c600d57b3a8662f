"""What both kinds of keys share: random secrets with a prefix, stored only as a SHA-256.

The collector's write keys (`acdwk_…`, public, one per product) and the read API's keys
(`acdrk_…`, secrets) live in different tables; `hash_key` is the only form either stores.
"""

from __future__ import annotations

import hashlib
import secrets

from acd_analytics.warehouse_url import WarehouseTarget


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key(prefix: str) -> str:
    """`prefix` followed by 32 random bytes in URL-safe base64."""
    return prefix + secrets.token_urlsafe(32)


def new_key_id(prefix: str) -> str:
    """A short public id for a key (`wk_…`, `rk_…`): what `list` shows and `revoke` takes."""
    return prefix + secrets.token_hex(6)


def placeholder(target: WarehouseTarget) -> str:
    """The driver's bound-parameter marker: `%s` for psycopg, `?` for DuckDB."""
    return "%s" if target.backend == "postgres" else "?"


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, else None."""
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()
