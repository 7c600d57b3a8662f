"""Read keys (docs/API.md, Keys): secrets stored only as a SHA-256 hash in `api_keys`.

A key is `acdrk_` followed by 32 random bytes in URL-safe base64; its `key_id` (`rk_…`) is what
`api-keys list` shows and `api-keys revoke` takes. A key has a name (who holds it), an optional
product (whose rows it reads; none: an analyst key) and the marts it may read. Every request
checks in the warehouse that its key exists and is not revoked, so a revocation applies to the
next request: by looking the key up, or, for a mart read by a key this process has seen
(`KnownKeys`), inside the page's own statement (`still_valid_sql`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from acd_analytics.warehouse_url import WarehouseTarget

from api.catalog import Catalog, Mart
from serving.keys import hash_key, new_key, new_key_id, placeholder
from warehouse_db.connection import connect, transaction

KEY_PREFIX = "acdrk_"
KEY_ID_PREFIX = "rk_"
ALL_MARTS = "*"
PRODUCT_SLUG = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
KEY_NAME = re.compile(r"^[\w .@-]{1,80}$")
COLUMNS = "key_id, name, product, marts, created_at, revoked_at"
KEY_WIDTH = len(COLUMNS.split(", "))  # lookup_sql's key columns, before the build's two


class ReadKeyError(ValueError):
    """An api-keys command cannot do what was asked; the message says why."""


@dataclass(frozen=True)
class ReadKey:
    key_id: str
    name: str
    product: str | None
    # None: the default set (a product key: the marts with a product column; an analyst key:
    # every mart); ("*",): every mart; else the names.
    marts: tuple[str, ...] | None
    created_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def may_read(self, mart: Mart) -> bool:
        if self.marts is None:
            return self.product is None or mart.product_column is not None
        return ALL_MARTS in self.marts or mart.name in self.marts

    def marts_label(self) -> str:
        if self.marts is None:
            return "marts with a product column" if self.product else "all"
        return "all" if ALL_MARTS in self.marts else ",".join(self.marts)


def parse_marts(text: str | None, catalog: Catalog | None) -> tuple[str, ...] | None:
    """`--marts NAME,…|all` as stored: None (not given), ("*",) or the names, each known."""
    if text is None:
        return None
    if text.strip() == "all":
        return (ALL_MARTS,)
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not names:
        raise ReadKeyError("--marts: give mart names separated by commas, or `all`")
    if catalog is not None:
        unknown = [name for name in names if catalog.get(name) is None]
        if unknown:
            raise ReadKeyError(
                f"--marts: no mart named {', '.join(unknown)} (known: {', '.join(catalog.names())})"
            )
    return names


def _row(row: Iterable[Any]) -> ReadKey:
    key_id, name, product, marts, created_at, revoked_at = row
    if isinstance(marts, str):
        marts = json.loads(marts)
    return ReadKey(
        key_id=key_id,
        name=name,
        product=product,
        marts=tuple(str(mart) for mart in marts) if marts is not None else None,
        created_at=created_at,
        revoked_at=revoked_at,
    )


def create_read_key(
    target: WarehouseTarget, name: str, product: str | None, marts: tuple[str, ...] | None
) -> tuple[ReadKey, str]:
    """Store a new read key; return it with the key itself (shown once, never stored)."""
    if not KEY_NAME.fullmatch(name):
        raise ReadKeyError(f"--name must match {KEY_NAME.pattern}, got {name!r}")
    if product is not None and not PRODUCT_SLUG.fullmatch(product):
        raise ReadKeyError(f"--product must match {PRODUCT_SLUG.pattern}, got {product!r}")
    key = new_key(KEY_PREFIX)
    key_id = new_key_id(KEY_ID_PREFIX)
    p = placeholder(target)
    with connect(target) as conn, transaction(conn):
        conn.execute(
            "insert into api_keys (key_id, key_sha256, name, product, marts) "
            f"values ({p}, {p}, {p}, {p}, {p})",
            (key_id, hash_key(key), name, product, None if marts is None else json.dumps(marts)),
        )
    return ReadKey(key_id=key_id, name=name, product=product, marts=marts), key


def list_read_keys(target: WarehouseTarget) -> list[ReadKey]:
    with connect(target) as conn:
        rows = conn.execute(f"select {COLUMNS} from api_keys order by created_at, key_id")
        return [_row(row) for row in rows.fetchall()]


def revoke_read_key(target: WarehouseTarget, key_id: str) -> ReadKey:
    p = placeholder(target)
    with connect(target) as conn, transaction(conn):
        rows = conn.execute(
            f"select {COLUMNS} from api_keys where key_id = {p}", (key_id,)
        ).fetchall()
        if not rows:
            raise ReadKeyError(f"no read key {key_id!r} (see `acd-warehouse api-keys list`)")
        conn.execute(
            "update api_keys set revoked_at = current_timestamp "
            f"where key_id = {p} and revoked_at is null",
            (key_id,),
        )
    return _row(rows[0])


def lookup_sql(target: WarehouseTarget) -> str:
    """The key of a hash (the second parameter) with the last build of a mart (the first;
    null for none): `key_from_row` and `build_from_row` read its row. One statement, so that
    a mart read makes one round trip before its page query."""
    p = placeholder(target)
    columns = ", ".join(f"k.{column}" for column in COLUMNS.split(", "))
    return (
        f"select {columns}, b.built_at, b.invocation_id from api_keys as k "
        f"left join acd_mart_builds as b on b.mart = {p} where k.key_sha256 = {p}"
    )


def still_valid_sql(target: WarehouseTarget) -> str:
    """A condition true while the key of a hash (the first parameter) exists unrevoked and a
    mart's (the second) last build is still the one of an invocation id (the third)."""
    marker = placeholder(target)
    return (
        f"exists (select 1 from api_keys where key_sha256 = {marker} and revoked_at is null) "
        f"and exists (select 1 from acd_mart_builds where mart = {marker} "
        f"and invocation_id = {marker})"
    )


class KnownKeys:
    """The keys this process has found valid, by hash, and each mart's build as last seen.

    Nothing in a key's row changes but `revoked_at`, and a read needs a mart's build only for
    its ETag, so a mart read by a known key need not look them up first: its page's statement
    carries `still_valid_sql`, and when that statement returns no row (a revoked key, a new
    build, or an empty page) the read is done again the long way. Used on the event loop only.
    """

    MAX_KEYS = 10_000

    def __init__(self) -> None:
        self._keys: dict[str, ReadKey] = {}
        self._builds: dict[str, tuple[Any, str]] = {}

    def get(self, key_hash: str, mart: str) -> tuple[ReadKey, tuple[Any, str]] | None:
        key, built = self._keys.get(key_hash), self._builds.get(mart)
        return None if key is None or built is None else (key, built)

    def remember(
        self, key_hash: str, key: ReadKey, mart: str | None, built: tuple[Any, str] | None
    ) -> None:
        """A lookup's answer: `key` (valid) and `mart`'s last build (None: never built)."""
        if len(self._keys) >= self.MAX_KEYS:
            self._keys.clear()
        self._keys[key_hash] = key
        if mart is not None:
            if built is None:
                self._builds.pop(mart, None)
            else:
                self._builds[mart] = built


def key_from_row(row: Sequence[Any] | None) -> ReadKey | None:
    return None if row is None else _row(row[:KEY_WIDTH])


def build_from_row(row: Sequence[Any] | None) -> tuple[Any, str] | None:
    """The mart's (built_at, invocation_id) from a `lookup_sql` row; None if never built."""
    if row is None or row[KEY_WIDTH + 1] is None:
        return None
    return row[KEY_WIDTH], row[KEY_WIDTH + 1]
