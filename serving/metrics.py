"""Prometheus wiring: the `/metrics` answer; each service declares its own metrics.

With `--workers N` each process counts its own; set `PROMETHEUS_MULTIPROC_DIR` to aggregate
them (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response


def metrics_response() -> Response:
    """This process's metrics in Prometheus' text format."""
    return Response(generate_latest(), 200, media_type=CONTENT_TYPE_LATEST)
