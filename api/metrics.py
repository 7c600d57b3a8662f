"""The read API's Prometheus metrics (served at `/metrics` through `serving.metrics`)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "acd_api_requests", "HTTP requests answered, by route and status", ["route", "status"]
)
QUERY_SECONDS = Histogram(
    "acd_api_query_seconds",
    "Time to answer a mart read (key lookup, query and encoding)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ROWS = Counter("acd_api_rows", "Rows returned, by mart", ["mart"])
PAGE_CACHE = Counter(
    "acd_api_page_cache",
    "Mart reads answered from the page cache (hit) or by a query (miss)",
    ["result"],
)
