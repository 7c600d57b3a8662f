"""The collector's Prometheus metrics (served at `/metrics`), in one place.

With `--workers N` every worker counts into the run's shared directory and `/metrics` adds
them up (`serving.metrics`); the journal gauges are the sum over the live workers.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter(
    "acd_collector_requests", "HTTP requests answered, by route and status", ["route", "status"]
)
REQUEST_SECONDS = Histogram(
    "acd_collector_request_seconds",
    "Time to answer an ingestion request (durable acknowledgement included)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
EVENTS_ACCEPTED = Counter(
    "acd_collector_events_accepted", "Messages accepted (journaled) for shared_events"
)
EVENTS_REJECTED = Counter(
    "acd_collector_events_rejected", "Messages refused, by reason code", ["reason_code"]
)
EVENTS_LOADED = Counter("acd_collector_events_loaded", "Rows newly inserted into shared_events")
EVENTS_DEDUPLICATED = Counter(
    "acd_collector_events_deduplicated", "Loaded messages whose event_id was already stored"
)
JOURNAL_BYTES = Gauge(
    "acd_collector_journal_bytes",
    "Bytes of the journal on disk (every worker's slot)",
    multiprocess_mode="livesum",
)
JOURNAL_PENDING_BYTES = Gauge(
    "acd_collector_journal_pending_bytes",
    "Journaled bytes not yet loaded into the warehouse (every worker's slot)",
    multiprocess_mode="livesum",
)
JOURNAL_FSYNC_SECONDS = Histogram(
    "acd_collector_journal_fsync_seconds",
    "Time of one group commit (write + fdatasync)",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)
JOURNAL_GROUP_REQUESTS = Histogram(
    "acd_collector_journal_group_requests",
    "Requests acknowledged by one group commit",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
LOAD_SECONDS = Histogram(
    "acd_collector_load_seconds",
    "Time to load one journal batch into the warehouse",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
LOAD_FAILURES = Counter(
    "acd_collector_load_failures", "Journal loads that failed and will be retried"
)
