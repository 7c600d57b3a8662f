"""The marts the read API serves, read from the dbt manifest's contracts (docs/API.md, Marts).

Every model in the `marts` schema with an enforced contract is a mart: its columns, types and
descriptions are the contract's, its grain is the first sentence of its description, its
product column is `product` or `conversion_product` when it has one, and its key (the keyset
paging tiebreaker) is the column set of its `unique` or `unique_combination_of_columns` test.
Adding a mart to dbt adds it here; nothing in Python names a mart.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

PRODUCT_COLUMNS = ("product", "conversion_product")
MART_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class CatalogError(RuntimeError):
    """The dbt manifest is missing or unreadable; the message says how to make it."""


class BadValue(ValueError):
    """A value does not parse as its column's type; the message says what was expected."""


# Contract data type -> the kind of value the API reads and writes for it.
def kind_of(data_type: str) -> str:
    base = data_type.strip().lower().split("(", 1)[0].strip()
    if base in ("text", "varchar", "character varying", "string", "uuid"):
        return "text"
    if base in ("integer", "bigint", "int", "smallint", "int4", "int8", "hugeint"):
        return "integer"
    if base in ("double precision", "double", "float", "float8", "real"):
        return "number"
    if base in ("numeric", "decimal"):
        return "decimal"
    if base == "date":
        return "date"
    if base in ("timestamp with time zone", "timestamptz"):
        return "timestamp"
    if base in ("timestamp", "timestamp without time zone"):
        return "timestamp"
    if base == "boolean":
        return "boolean"
    return "json"


def parse_value(kind: str, text: str) -> Any:
    """`text` as a value of `kind`, to be bound as a query parameter; BadValue if it is not one."""
    try:
        if kind == "text":
            if "\x00" in text:
                raise BadValue("a text value cannot hold a NUL character")
            return text
        if kind == "integer":
            if not re.fullmatch(r"-?[0-9]{1,19}", text):
                raise BadValue(f"expected an integer, got {text[:40]!r}")
            value = int(text)
            if not -(2**63) <= value < 2**63:
                raise BadValue(f"integer out of range: {text[:40]!r}")
            return value
        if kind == "number":
            if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?", text):
                raise BadValue(f"expected a number, got {text[:40]!r}")
            return float(text)
        if kind == "decimal":
            if not re.fullmatch(r"-?[0-9]{1,32}(\.[0-9]{1,12})?", text):
                raise BadValue(f"expected a decimal number, got {text[:40]!r}")
            return Decimal(text)
        if kind == "date":
            return date.fromisoformat(text)
        if kind == "timestamp":
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                raise BadValue(f"expected a timestamp with a UTC offset, got {text[:40]!r}")
            return moment
        if kind == "boolean":
            if text not in ("true", "false"):
                raise BadValue(f"expected true or false, got {text[:40]!r}")
            return text == "true"
    except (ValueError, InvalidOperation) as exc:
        if isinstance(exc, BadValue):
            raise
        raise BadValue(f"expected a {kind}, got {text[:40]!r}") from None
    raise BadValue(f"a {kind} column cannot be filtered")


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    description: str
    not_null: bool = False

    @functools.cached_property
    def kind(self) -> str:
        # Read for every value of every row served: worked out once per column.
        return kind_of(self.data_type)

    @property
    def comparable(self) -> bool:
        """Whether the column can be filtered and ordered (every kind but JSON)."""
        return self.kind != "json"


@dataclass(frozen=True)
class Mart:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    @property
    def grain(self) -> str:
        first = re.split(r"(?<=[.;])\s|\s\(", self.description.strip(), maxsplit=1)[0]
        return first.rstrip(".;")

    @property
    def product_column(self) -> str | None:
        names = {column.name for column in self.columns}
        return next((name for name in PRODUCT_COLUMNS if name in names), None)

    def column(self, name: str) -> Column | None:
        return next((column for column in self.columns if column.name == name), None)


@dataclass(frozen=True)
class Catalog:
    marts: dict[str, Mart]

    def get(self, name: str) -> Mart | None:
        return self.marts.get(name)

    def names(self) -> list[str]:
        return sorted(self.marts)


def load_catalog(manifest_path: Path) -> Catalog:
    """The marts of the manifest at `manifest_path`."""
    try:
        manifest = json.loads(manifest_path.read_text())
    except FileNotFoundError:
        raise CatalogError(
            f"no dbt manifest at {manifest_path}: run `acd-warehouse build` (or dbt parse) first"
        ) from None
    except (OSError, ValueError) as exc:
        raise CatalogError(f"cannot read the dbt manifest {manifest_path}: {exc}") from None
    return catalog_from_manifest(manifest)


def catalog_from_manifest(manifest: dict[str, Any]) -> Catalog:
    nodes: dict[str, Any] = manifest.get("nodes", {})
    keys: dict[str, tuple[str, ...]] = {}
    for node in nodes.values():
        if node.get("resource_type") != "test":
            continue
        meta = node.get("test_metadata") or {}
        parents = node.get("depends_on", {}).get("nodes", [])
        if len(parents) != 1:
            continue
        if meta.get("name") == "unique" and node.get("column_name"):
            key: tuple[str, ...] = (node["column_name"],)
        elif meta.get("name") == "unique_combination_of_columns":
            columns = (meta.get("kwargs") or {}).get("combination_of_columns") or []
            key = tuple(str(column) for column in columns)
        else:
            continue
        # Prefer the smallest key a mart declares.
        if key and (parents[0] not in keys or len(key) < len(keys[parents[0]])):
            keys[parents[0]] = key
    marts: dict[str, Mart] = {}
    for unique_id, node in nodes.items():
        if node.get("resource_type") != "model" or node.get("schema") != "marts":
            continue
        config = node.get("config") or {}
        if not (config.get("contract") or {}).get("enforced"):
            continue
        name = node.get("alias") or node["name"]
        if not MART_NAME.fullmatch(name):
            continue
        columns = tuple(
            Column(
                name=column["name"],
                data_type=str(column.get("data_type") or "text"),
                description=" ".join(str(column.get("description") or "").split()),
                not_null=any(
                    (constraint or {}).get("type") == "not_null"
                    for constraint in column.get("constraints") or []
                ),
            )
            for column in node.get("columns", {}).values()
            if MART_NAME.fullmatch(column["name"])
        )
        names = {column.name for column in columns}
        key = tuple(column for column in keys.get(unique_id, ()) if column in names)
        if not key or len(key) != len(keys.get(unique_id, ())):
            # No declared key: every comparable column breaks ties.
            key = tuple(column.name for column in columns if column.comparable)
        marts[name] = Mart(
            name=name,
            description=" ".join(str(node.get("description") or "").split()),
            columns=columns,
            key=key,
        )
    return Catalog(marts)
