"""The read API's settings, read from the environment once, at start-up.

| variable | meaning | default |
|---|---|---|
| `ACD_API_RATE_LIMIT` | requests per second per key (token bucket; bursts of 10 s worth) | 20 |
| `ACD_API_STATEMENT_TIMEOUT_MS` | longest a mart query may run before the answer is 503 | 10000 |
| `ACD_API_POOL_SIZE` | PostgreSQL connections per API process | 4 |
| `ACD_API_WAREHOUSE_URL` | PostgreSQL: connect as this (read-only) login instead of the API role the server makes at start | unset |
| `ACD_API_PAGE_CACHE_MB` | memory per API process for pages already answered, reused until their mart's next build (0: off) | 64 |
| `ACD_API_MANIFEST` | the dbt manifest the marts are read from | `dbt_project/target/manifest.json`, parsed if stale |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from serving.settings import positive_number, setting

DEFAULT_RATE_LIMIT = 20.0
DEFAULT_STATEMENT_TIMEOUT_MS = 10_000
# More queries in flight than the database has cores only queue inside PostgreSQL, where they
# take the CPU from the process that writes the answers: on 2 cores, 8 connections for 8
# clients put the heavy page's p99 at 58-65 ms, 4 at 38-44 ms, at the same rate
# (docs/BENCHMARKS.md, Read API latency).
DEFAULT_POOL_SIZE = 4
DEFAULT_PAGE_CACHE_MB = 64


class InvalidApiSetting(ValueError):
    """An `ACD_API_*` variable is set to something unusable; the message names it."""


@dataclass(frozen=True)
class ApiSettings:
    rate_limit: float = DEFAULT_RATE_LIMIT
    rate_burst: float | None = None
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS
    pool_size: int = DEFAULT_POOL_SIZE
    page_cache_bytes: int = DEFAULT_PAGE_CACHE_MB * 2**20
    reader_url: str | None = None
    manifest: Path | None = None


def api_settings(env: Mapping[str, str] | None = None) -> ApiSettings:
    values = os.environ if env is None else env

    def get(name: str) -> str | None:
        return setting(values, name)

    manifest = get("ACD_API_MANIFEST")
    return ApiSettings(
        rate_limit=_positive("ACD_API_RATE_LIMIT", get("ACD_API_RATE_LIMIT"), DEFAULT_RATE_LIMIT),
        statement_timeout_ms=int(
            _positive(
                "ACD_API_STATEMENT_TIMEOUT_MS",
                get("ACD_API_STATEMENT_TIMEOUT_MS"),
                DEFAULT_STATEMENT_TIMEOUT_MS,
            )
        ),
        pool_size=int(_positive("ACD_API_POOL_SIZE", get("ACD_API_POOL_SIZE"), DEFAULT_POOL_SIZE)),
        page_cache_bytes=int(
            _positive(
                "ACD_API_PAGE_CACHE_MB",
                get("ACD_API_PAGE_CACHE_MB"),
                DEFAULT_PAGE_CACHE_MB,
                zero=True,
            )
            * 2**20
        ),
        reader_url=get("ACD_API_WAREHOUSE_URL"),
        manifest=Path(manifest) if manifest else None,
    )


def _positive(name: str, value: str | None, default: float, *, zero: bool = False) -> float:
    if value is None:
        return default
    return positive_number(name, value, InvalidApiSetting, zero=zero)
