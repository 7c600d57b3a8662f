"""The Meta, TikTok and Stripe clients as Dagster resources: the interfaces the assets use, and
the live (production) implementations.

Every implementation runs the real connector code (`ingest.*`); they differ in where the
settings come from. The live ones take every setting (docs/REFERENCE.md, Settings) from the
environment through `dg.EnvVar` (so the UI and logs show the variable's name, never its value)
and validate them with `orchestration.settings`. The demo's sample implementations, pointed at
the sample world's fake APIs, are in `orchestration.demo.resources`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import dagster as dg

from ingest._common.clock import Clock, SystemClock
from ingest._common.results import Progress, StreamResult, no_progress
from ingest._common.secrets import Secret
from ingest.meta import ingest_meta
from ingest.meta.settings import ADS_STREAM as META_ADS
from ingest.meta.settings import DEFAULT_BASE_URL as META_DEFAULT_BASE_URL
from ingest.meta.settings import INSIGHTS_STREAM as META_INSIGHTS
from ingest.meta.settings import MetaConfig
from ingest.stripe import ingest_stripe
from ingest.stripe.settings import StripeConfig
from ingest.tiktok import ingest_tiktok
from ingest.tiktok.settings import ADS_STREAM as TIKTOK_ADS
from ingest.tiktok.settings import DEFAULT_BASE_URL as TIKTOK_DEFAULT_BASE_URL
from ingest.tiktok.settings import DEFAULT_DISPLAY_BASE_URL, TikTokConfig
from ingest.tiktok.settings import REPORTS_STREAM as TIKTOK_REPORTS
from ingest.tiktok.settings import VIDEOS_STREAM as TIKTOK_VIDEOS
from orchestration.settings import meta_settings, stripe_settings, tiktok_settings
from warehouse_db.raw_load import RawWriter

# Meta ---------------------------------------------------------------------------------------


class MetaResource(dg.ConfigurableResource):
    """Meta Marketing API: daily ad insights and ad statuses of every configured ad account."""

    def settings(self) -> MetaConfig:
        raise NotImplementedError

    def clock(self) -> Clock:
        return SystemClock()

    def ingest_insights(
        self, writer: RawWriter, *, start: date, end: date, progress: Progress = no_progress
    ) -> list[StreamResult]:
        return ingest_meta(
            self.settings(),
            writer,
            streams=(META_INSIGHTS,),
            start=start,
            end=end,
            clock=self.clock(),
            progress=progress,
        )

    def ingest_ads(
        self, writer: RawWriter, *, progress: Progress = no_progress
    ) -> list[StreamResult]:
        return ingest_meta(
            self.settings(),
            writer,
            streams=(META_ADS,),
            clock=self.clock(),
            progress=progress,
        )


class LiveMetaResource(MetaResource):
    access_token: str
    ad_account_ids: str
    api_base_url: str = META_DEFAULT_BASE_URL

    def settings(self) -> MetaConfig:
        return meta_settings(
            {
                "META_ACCESS_TOKEN": self.access_token,
                "META_AD_ACCOUNT_IDS": self.ad_account_ids,
                "META_API_BASE_URL": self.api_base_url,
            }
        )


# TikTok Business API (ads reports and statuses) ---------------------------------------------


class TikTokResource(dg.ConfigurableResource):
    """TikTok Business API: daily ad reports and ad statuses of every configured advertiser."""

    def settings(self) -> TikTokConfig:
        raise NotImplementedError

    def clock(self) -> Clock:
        return SystemClock()

    def ingest_reports(
        self, writer: RawWriter, *, start: date, end: date, progress: Progress = no_progress
    ) -> list[StreamResult]:
        return ingest_tiktok(
            self.settings(),
            writer,
            streams=(TIKTOK_REPORTS,),
            start=start,
            end=end,
            clock=self.clock(),
            progress=progress,
        )

    def ingest_ads(
        self, writer: RawWriter, *, progress: Progress = no_progress
    ) -> list[StreamResult]:
        return ingest_tiktok(
            self.settings(),
            writer,
            streams=(TIKTOK_ADS,),
            clock=self.clock(),
            progress=progress,
        )


class LiveTikTokResource(TikTokResource):
    access_token: str
    advertiser_ids: str
    api_base_url: str = TIKTOK_DEFAULT_BASE_URL

    def settings(self) -> TikTokConfig:
        return tiktok_settings(
            {
                "TIKTOK_ACCESS_TOKEN": self.access_token,
                "TIKTOK_ADVERTISER_IDS": self.advertiser_ids,
                "TIKTOK_API_BASE_URL": self.api_base_url,
            }
        )


# TikTok Display API (organic videos of the connected account) ------------------------------


class TikTokDisplayResource(dg.ConfigurableResource):
    """TikTok Display API: a snapshot of every video's cumulative counters per call.

    A resource of its own (not part of `tiktok`) because its token is optional in docs/REFERENCE.md, Settings:
    without TIKTOK_DISPLAY_ACCESS_TOKEN only the video snapshots fail, naming the variable."""

    def token(self) -> str:
        raise NotImplementedError

    def base_url(self) -> str:
        raise NotImplementedError

    def clock(self) -> Clock:
        return SystemClock()

    def ingest_videos(
        self, writer: RawWriter, *, progress: Progress = no_progress
    ) -> list[StreamResult]:
        # The Business settings are not used by the Display client.
        config = TikTokConfig(
            access_token=Secret(""),
            advertiser_ids=(),
            display_access_token=Secret(self.token()),
            display_base_url=self.base_url(),
        )
        return ingest_tiktok(
            config,
            writer,
            streams=(TIKTOK_VIDEOS,),
            clock=self.clock(),
            progress=progress,
        )


class LiveTikTokDisplayResource(TikTokDisplayResource):
    access_token: str
    api_base_url: str = DEFAULT_DISPLAY_BASE_URL

    def token(self) -> str:
        return tiktok_settings(
            {
                "TIKTOK_ACCESS_TOKEN": "unused",
                "TIKTOK_ADVERTISER_IDS": "unused",
                "TIKTOK_DISPLAY_ACCESS_TOKEN": self.access_token,
            }
        ).display_access_token.reveal()  # type: ignore[union-attr]

    def base_url(self) -> str:
        return self.api_base_url.rstrip("/")


# Stripe ---------------------------------------------------------------------------------------


class StripeResource(dg.ConfigurableResource):
    """Stripe billing objects: a full sync on the first run, then `/v1/events`."""

    def settings(self) -> StripeConfig:
        raise NotImplementedError

    def clock(self) -> Clock:
        return SystemClock()

    def ingest(self, writer: RawWriter, *, progress: Progress = no_progress) -> list[StreamResult]:
        return ingest_stripe(self.settings(), writer, clock=self.clock(), progress=progress)


class LiveStripeResource(StripeResource):
    api_key: str
    api_base_url: str | None = None

    def settings(self) -> StripeConfig:
        env = {"STRIPE_API_KEY": self.api_key}
        if self.api_base_url:
            env["STRIPE_API_BASE_URL"] = self.api_base_url
        return stripe_settings(env)


# Wiring ---------------------------------------------------------------------------------------


def _optional(name: str, default: str | None) -> str | None:
    """A non-secret setting with a default (a base URL): its value when set, else the default."""
    return dg.EnvVar(name).get_value(default) or default


def live_client_resources() -> dict[str, Any]:
    """The production wiring: secrets and account ids stay `EnvVar`s, read when a run starts."""
    return {
        "meta": LiveMetaResource(
            access_token=dg.EnvVar("META_ACCESS_TOKEN"),
            ad_account_ids=dg.EnvVar("META_AD_ACCOUNT_IDS"),
            api_base_url=_optional("META_API_BASE_URL", META_DEFAULT_BASE_URL) or "",
        ),
        "tiktok": LiveTikTokResource(
            access_token=dg.EnvVar("TIKTOK_ACCESS_TOKEN"),
            advertiser_ids=dg.EnvVar("TIKTOK_ADVERTISER_IDS"),
            api_base_url=_optional("TIKTOK_API_BASE_URL", TIKTOK_DEFAULT_BASE_URL) or "",
        ),
        "tiktok_display": LiveTikTokDisplayResource(
            access_token=dg.EnvVar("TIKTOK_DISPLAY_ACCESS_TOKEN"),
            api_base_url=_optional("TIKTOK_DISPLAY_API_BASE_URL", DEFAULT_DISPLAY_BASE_URL) or "",
        ),
        "stripe": LiveStripeResource(
            api_key=dg.EnvVar("STRIPE_API_KEY"),
            api_base_url=_optional("STRIPE_API_BASE_URL", None),
        ),
    }
