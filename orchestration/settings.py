"""Source settings from the environment (docs/REFERENCE.md, Settings): the only place that reads them.

`ingest/` never reads the environment; the command line and the Dagster resources build
the connectors' typed configs here. A missing credential raises `MissingCredentials`
naming the variable; there is no fallback to sample data. Secrets are held in `Secret`,
whose repr/str never show the value.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from ingest._common.secrets import Secret
from ingest.meta.settings import DEFAULT_BASE_URL as META_DEFAULT_BASE_URL
from ingest.meta.settings import MetaConfig
from ingest.stripe.settings import StripeConfig
from ingest.tiktok.settings import DEFAULT_BASE_URL as TIKTOK_DEFAULT_BASE_URL
from ingest.tiktok.settings import DEFAULT_DISPLAY_BASE_URL, TikTokConfig


class MissingCredentials(ValueError):
    """A required setting of a source is not set: `META_ACCESS_TOKEN is not set`."""


class InvalidSetting(ValueError):
    """A setting is present but unusable; the message names it."""


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _required(env: Mapping[str, str], name: str, source: str) -> str:
    value = _get(env, name)
    if value is None:
        raise MissingCredentials(f"{name} is not set (needed by `ingest {source}`)")
    return value


def _id_list(env: Mapping[str, str], name: str, source: str) -> tuple[str, ...]:
    ids = tuple(part.strip() for part in _required(env, name, source).split(",") if part.strip())
    if not ids:
        raise MissingCredentials(f"{name} is not set (needed by `ingest {source}`)")
    return ids


def _url(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    value = _get(env, name)
    if value is None:
        return default
    if not value.startswith(("http://", "https://")):
        raise InvalidSetting(f"{name} must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


def meta_settings(env: Mapping[str, str] | None = None) -> MetaConfig:
    values = _env(env)
    accounts = _id_list(values, "META_AD_ACCOUNT_IDS", "meta")
    for account in accounts:
        if not account.removeprefix("act_").isdigit():
            raise InvalidSetting(
                f"META_AD_ACCOUNT_IDS: {account!r} is not an ad account id (act_<digits>)"
            )
    return MetaConfig(
        access_token=Secret(_required(values, "META_ACCESS_TOKEN", "meta")),
        ad_account_ids=accounts,
        base_url=_url(values, "META_API_BASE_URL", META_DEFAULT_BASE_URL) or "",
    )


def tiktok_settings(env: Mapping[str, str] | None = None) -> TikTokConfig:
    """The Business API settings are required; the Display API token is optional (without
    it, organic videos are skipped and the command says so)."""
    values = _env(env)
    display = _get(values, "TIKTOK_DISPLAY_ACCESS_TOKEN")
    return TikTokConfig(
        access_token=Secret(_required(values, "TIKTOK_ACCESS_TOKEN", "tiktok")),
        advertiser_ids=_id_list(values, "TIKTOK_ADVERTISER_IDS", "tiktok"),
        display_access_token=Secret(display) if display else None,
        base_url=_url(values, "TIKTOK_API_BASE_URL", TIKTOK_DEFAULT_BASE_URL) or "",
        display_base_url=_url(values, "TIKTOK_DISPLAY_API_BASE_URL", DEFAULT_DISPLAY_BASE_URL)
        or "",
    )


def stripe_settings(env: Mapping[str, str] | None = None) -> StripeConfig:
    values = _env(env)
    return StripeConfig(
        api_key=Secret(_required(values, "STRIPE_API_KEY", "stripe")),
        base_url=_url(values, "STRIPE_API_BASE_URL", None),
    )


SOURCE_SETTINGS: dict[str, Callable[[Mapping[str, str] | None], Any]] = {
    "meta": meta_settings,
    "tiktok": tiktok_settings,
    "stripe": stripe_settings,
}
