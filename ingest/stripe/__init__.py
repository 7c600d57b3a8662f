"""Stripe billing objects through the official SDK: full sync, then /v1/events."""

from ingest.stripe.settings import StripeConfig
from ingest.stripe.source import ingest_stripe

__all__ = ["StripeConfig", "ingest_stripe"]
