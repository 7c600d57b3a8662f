"""Stripe streams, the objects events carry, and defaults (docs/API_CONTRACT.md)."""

from __future__ import annotations

from dataclasses import dataclass

from ingest._common.secrets import Secret

# Full-sync order: referenced objects first. stream -> extra list parameters.
STREAMS: dict[str, dict[str, str]] = {
    "products": {},
    "prices": {},
    "customers": {},
    "subscriptions": {"status": "all"},  # canceled ones too
    "invoices": {},
    "charges": {},
    "refunds": {},
}
# `object` of an event's data.object -> raw table (merge key: the object id).
OBJECT_TABLES = {
    "product": "products",
    "price": "prices",
    "customer": "customers",
    "subscription": "subscriptions",
    "invoice": "invoices",
    "charge": "charges",
    "refund": "refunds",
}
EVENTS_STREAM = "events"  # cursor: {"created": newest event second, "ids": [ids at it]}
FULL_SYNC_STREAM = "full_sync"  # a full sync in progress: {"baseline": events cursor}
EVENT_RETENTION_DAYS = 30  # Stripe keeps events 30 days; an older cursor means re-sync
DEFAULT_ACCOUNT = "default"


@dataclass(frozen=True)
class StripeConfig:
    api_key: Secret
    base_url: str | None = None  # None: the SDK's default (api.stripe.com)
    account_id: str = DEFAULT_ACCOUNT  # stored as `_account_id`
    page_limit: int = 100
    retention_margin_hours: float = 1.0  # re-sync a little before the cursor expires
    timeout_seconds: float = 60.0
