"""The collector's settings, read from the environment once, at start-up.

| variable | meaning | default |
|---|---|---|
| `ACD_COLLECTOR_JOURNAL_DIR` | where accepted requests are journaled before loading | a per-user data folder |
| `ACD_COLLECTOR_JOURNAL_MAX_BYTES` | disk budget of the journal; beyond it requests get 503 | 10 GB |
| `ACD_COLLECTOR_TRUSTED_PROXIES` | comma list of proxy addresses or networks whose `X-Forwarded-For` is believed | none |
| `ACD_COLLECTOR_PUBLIC_URL` | the base URL the settings document points clients at | the request's own |
| `ACD_COLLECTOR_RATE_LIMIT` | messages per second per write key (token bucket; burst 10 s worth) | 10000 |
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from serving.settings import positive_number, setting

DEFAULT_JOURNAL_MAX_BYTES = 10 * 1000**3
DEFAULT_RATE_LIMIT = 10_000.0

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class InvalidCollectorSetting(ValueError):
    """An `ACD_COLLECTOR_*` variable is set to something unusable; the message names it."""


@dataclass(frozen=True)
class CollectorSettings:
    journal_dir: Path
    journal_max_bytes: int = DEFAULT_JOURNAL_MAX_BYTES
    trusted_proxies: tuple[Network, ...] = ()
    public_url: str | None = None
    rate_limit: float = DEFAULT_RATE_LIMIT

    def is_trusted_proxy(self, address: str | None) -> bool:
        if not self.trusted_proxies or not address:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted_proxies)


def default_journal_dir(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "acd-warehouse" / "collector-journal"


def collector_settings(env: Mapping[str, str] | None = None) -> CollectorSettings:
    values = os.environ if env is None else env

    def get(name: str) -> str | None:
        return setting(values, name)

    journal_dir = get("ACD_COLLECTOR_JOURNAL_DIR")
    max_bytes = get("ACD_COLLECTOR_JOURNAL_MAX_BYTES")
    proxies = get("ACD_COLLECTOR_TRUSTED_PROXIES")
    public_url = get("ACD_COLLECTOR_PUBLIC_URL")
    rate = get("ACD_COLLECTOR_RATE_LIMIT")
    networks: list[Network] = []
    for part in (proxies or "").split(","):
        if part.strip():
            try:
                networks.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError:
                raise InvalidCollectorSetting(
                    f"ACD_COLLECTOR_TRUSTED_PROXIES: {part.strip()!r} is not an address or network"
                ) from None
    if public_url is not None:
        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidCollectorSetting(
                f"ACD_COLLECTOR_PUBLIC_URL must be an http(s) URL, got {public_url!r}"
            )
        public_url = public_url.rstrip("/")
    return CollectorSettings(
        journal_dir=Path(journal_dir) if journal_dir else default_journal_dir(values),
        journal_max_bytes=_positive_int("ACD_COLLECTOR_JOURNAL_MAX_BYTES", max_bytes)
        if max_bytes
        else DEFAULT_JOURNAL_MAX_BYTES,
        trusted_proxies=tuple(networks),
        public_url=public_url,
        rate_limit=_positive_float("ACD_COLLECTOR_RATE_LIMIT", rate)
        if rate
        else DEFAULT_RATE_LIMIT,
    )


def _positive_int(name: str, value: str) -> int:
    return int(positive_number(name, value, InvalidCollectorSetting, integer=True))


def _positive_float(name: str, value: str) -> float:
    return positive_number(name, value, InvalidCollectorSetting)
