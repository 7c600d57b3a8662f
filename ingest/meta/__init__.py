"""Meta Marketing API: daily ad insights (restated lookback) and ad status history."""

from ingest.meta.settings import MetaConfig
from ingest.meta.source import ingest_meta

__all__ = ["MetaConfig", "ingest_meta"]
