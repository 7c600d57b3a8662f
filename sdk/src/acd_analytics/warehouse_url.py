"""Parse `ACD_WAREHOUSE_URL`, the one setting that says where the warehouse is.

The URL has SQLAlchemy's form so that the same string works for every tool that reads it:
`duckdb:///relative/path.duckdb`, `duckdb:////absolute/path.duckdb`, `duckdb:///:memory:`,
or `postgresql+psycopg://user:password@host:port/database`. This module is the only place
that parses it; the warehouse, dbt profile and Dagster resources all call `parse_warehouse_url`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit, urlunsplit

DEFAULT_WAREHOUSE_URL = "duckdb:///warehouse/acd.duckdb"
WAREHOUSE_URL_SETTING = "ACD_WAREHOUSE_URL"

Backend = Literal["duckdb", "postgres"]


class InvalidWarehouseURL(ValueError):
    """`ACD_WAREHOUSE_URL` (or a `warehouse_url=` argument) is not a URL we can use."""


@dataclass(frozen=True)
class WarehouseTarget:
    """Where the warehouse is, in the form each driver wants.

    `duckdb_path` is set for DuckDB (an absolute path, or ":memory:"); `postgres_conninfo`
    (a libpq URI without the `+driver` suffix) and the parts of it are set for PostgreSQL.
    """

    backend: Backend
    url: str
    duckdb_path: str | None = None
    postgres_conninfo: str | None = None
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = None
    database: str | None = None

    def redacted(self) -> str:
        """The URL with any password replaced, safe for logs and error messages."""
        return redact_url(self.url)

    def __repr__(self) -> str:
        # Targets end up in tracebacks, test reports and Dagster's error events.
        return f"WarehouseTarget({self.backend!r}, {self.redacted()!r})"


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def resolve_warehouse_url(url: str | None = None) -> str:
    """The explicit URL, else `ACD_WAREHOUSE_URL`, else the embedded DuckDB default."""
    return url or os.environ.get(WAREHOUSE_URL_SETTING) or DEFAULT_WAREHOUSE_URL


def parse_warehouse_url(url: str, *, base_dir: Path | None = None) -> WarehouseTarget:
    """Parse a warehouse URL; relative DuckDB paths resolve against `base_dir` (default: cwd)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise InvalidWarehouseURL(
            f"{WAREHOUSE_URL_SETTING} must look like duckdb:///path.duckdb or "
            f"postgresql+psycopg://user@host/db, got {redact_url(url)!r}"
        )
    dialect = scheme.split("+", 1)[0].lower()
    if dialect == "duckdb":
        return _parse_duckdb(url, rest, base_dir or Path.cwd())
    if dialect in ("postgresql", "postgres"):
        return _parse_postgres(url, rest)
    raise InvalidWarehouseURL(
        f"{WAREHOUSE_URL_SETTING} has unsupported scheme {scheme!r}: use duckdb:// or postgresql+psycopg://"
    )


def _parse_duckdb(url: str, rest: str, base_dir: Path) -> WarehouseTarget:
    # SQLAlchemy form: duckdb:///relative, duckdb:////absolute; the netloc is always empty.
    if not rest.startswith("/"):
        raise InvalidWarehouseURL(
            f"{WAREHOUSE_URL_SETTING}: a DuckDB URL has three slashes before a relative path "
            f"(duckdb:///warehouse/acd.duckdb), got {url!r}"
        )
    raw_path = unquote(rest[1:].split("?", 1)[0])
    if raw_path in ("", ":memory:"):
        return WarehouseTarget(backend="duckdb", url=url, duckdb_path=":memory:")
    path = Path(raw_path)
    if not path.is_absolute():
        path = base_dir / path
    return WarehouseTarget(backend="duckdb", url=url, duckdb_path=str(path))


def _parse_postgres(url: str, rest: str) -> WarehouseTarget:
    parts = urlsplit("postgresql://" + rest)
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise InvalidWarehouseURL(
            f"{WAREHOUSE_URL_SETTING}: a PostgreSQL URL must name a database "
            f"(postgresql+psycopg://user@host:5432/acd), got {redact_url(url)!r}"
        )
    try:
        port = parts.port or 5432
    except ValueError as exc:
        raise InvalidWarehouseURL(
            f"{WAREHOUSE_URL_SETTING}: bad port in {redact_url(url)!r}"
        ) from exc
    return WarehouseTarget(
        backend="postgres",
        url=url,
        postgres_conninfo=urlunsplit(parts),
        host=parts.hostname or "localhost",
        port=port,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        database=database,
    )
