"""The Meta, TikTok and Stripe clients of the sample world's fake APIs, as Dagster resources.

Implementations of the resource interfaces of `orchestration.defs.ingest.resources` that run
the same real connector code as the live ones, pointed at the sample transport
(`acd_sample_world.fake_apis.server`) with placeholder tokens, and with the connectors' clock
pinned to the sample world's "now", so a world generated for any date range is pulled as if it
were live. `sample_client_resources` binds them; `orchestration.demo.pipeline` and the tests
use it. The production code location never imports this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ingest._common.clock import Clock, SystemClock
from ingest.meta.settings import MetaConfig
from ingest.stripe.settings import StripeConfig
from ingest.tiktok.settings import TikTokConfig
from orchestration.defs.ingest.resources import (
    MetaResource,
    StripeResource,
    TikTokDisplayResource,
    TikTokResource,
)
from orchestration.settings import meta_settings, stripe_settings, tiktok_settings

SAMPLE_TOKEN = "sample-token-not-a-secret"


class PinnedClock(SystemClock):
    """The real clock for waiting, with a fixed `now` (the sample world's present)."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now


def _clock(now: str | None) -> Clock:
    if not now:
        return SystemClock()
    moment = datetime.fromisoformat(now.replace("Z", "+00:00"))
    return PinnedClock(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


class SampleMetaResource(MetaResource):
    api_base_url: str
    ad_account_ids: str
    now: str | None = None

    def settings(self) -> MetaConfig:
        return meta_settings(
            {
                "META_ACCESS_TOKEN": SAMPLE_TOKEN,
                "META_AD_ACCOUNT_IDS": self.ad_account_ids,
                "META_API_BASE_URL": self.api_base_url,
            }
        )

    def clock(self) -> Clock:
        return _clock(self.now)


class SampleTikTokResource(TikTokResource):
    api_base_url: str
    advertiser_ids: str
    now: str | None = None

    def settings(self) -> TikTokConfig:
        return tiktok_settings(
            {
                "TIKTOK_ACCESS_TOKEN": SAMPLE_TOKEN,
                "TIKTOK_ADVERTISER_IDS": self.advertiser_ids,
                "TIKTOK_API_BASE_URL": self.api_base_url,
            }
        )

    def clock(self) -> Clock:
        return _clock(self.now)


class SampleTikTokDisplayResource(TikTokDisplayResource):
    api_base_url: str
    now: str | None = None

    def token(self) -> str:
        return SAMPLE_TOKEN

    def base_url(self) -> str:
        return self.api_base_url.rstrip("/")

    def clock(self) -> Clock:
        return _clock(self.now)


class SampleStripeResource(StripeResource):
    api_base_url: str
    now: str | None = None

    def settings(self) -> StripeConfig:
        return stripe_settings(
            {"STRIPE_API_KEY": f"sk_test_{SAMPLE_TOKEN}", "STRIPE_API_BASE_URL": self.api_base_url}
        )

    def clock(self) -> Clock:
        return _clock(self.now)


def sample_client_resources(
    base_urls: Mapping[str, str], manifest: Mapping[str, Any]
) -> dict[str, Any]:
    """Clients of the sample transport. `base_urls` has the bases of `meta`, `tiktok`,
    `tiktok_display` and `stripe` (as `SampleWorldServer` gives them); `manifest` is the sample
    world's (`accounts`, `default_now`)."""
    accounts = manifest["accounts"]
    now = str(manifest["default_now"])
    return {
        "meta": SampleMetaResource(
            api_base_url=base_urls["meta"],
            ad_account_ids=",".join(accounts["meta_ad_account_ids"]),
            now=now,
        ),
        "tiktok": SampleTikTokResource(
            api_base_url=base_urls["tiktok"],
            advertiser_ids=",".join(accounts["tiktok_advertiser_ids"]),
            now=now,
        ),
        "tiktok_display": SampleTikTokDisplayResource(
            api_base_url=base_urls["tiktok_display"], now=now
        ),
        "stripe": SampleStripeResource(api_base_url=base_urls["stripe"], now=now),
    }
