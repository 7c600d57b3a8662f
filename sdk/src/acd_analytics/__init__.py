"""acd_analytics: the tracking SDK of ACD Warehouse.

    from acd_analytics import Client
    client = Client("postgresql+psycopg://…/acd", product="portal28")
    client.track("signup_completed", {"method": "email"}, user_id="u_123")

or, configured by `ACD_WAREHOUSE_URL` / `ACD_PRODUCT` / `ACD_SPOOL_DIR`:

    from acd_analytics import track_event
    track_event("page_viewed", anonymous_id="a_9")
"""

from acd_analytics.client import (
    LIBRARY,
    VERSION,
    Client,
    alias,
    default_client,
    flush,
    identify,
    shutdown,
    track_event,
)
from acd_analytics.events import STANDARD_EVENTS, InvalidEvent
from acd_analytics.transport import EventsQuarantined, MissingDriver, RejectedRows, Sink
from acd_analytics.warehouse_url import InvalidWarehouseURL

__version__ = VERSION

__all__ = [
    "LIBRARY",
    "STANDARD_EVENTS",
    "Client",
    "EventsQuarantined",
    "InvalidEvent",
    "InvalidWarehouseURL",
    "MissingDriver",
    "RejectedRows",
    "Sink",
    "__version__",
    "alias",
    "default_client",
    "flush",
    "identify",
    "shutdown",
    "track_event",
]
