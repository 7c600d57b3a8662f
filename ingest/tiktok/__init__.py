"""TikTok: Business API ad reports (restated lookback) and ad statuses; Display API videos."""

from ingest.tiktok.settings import TikTokConfig
from ingest.tiktok.source import ingest_tiktok

__all__ = ["TikTokConfig", "ingest_tiktok"]
