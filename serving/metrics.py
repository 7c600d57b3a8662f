"""Prometheus wiring: the `/metrics` answer; each service declares its own metrics.

With `--workers N` (N > 1) `serving.server.serve` gives the run a directory of its own in
`PROMETHEUS_MULTIPROC_DIR` (unless it is set already) before the workers start, so that every
worker writes its counts there (prometheus-client's multiprocess mode) and `/metrics`, from
whichever worker answers, adds up all of them. Gauges declare how they add up
(`multiprocess_mode`); a worker that stops cleanly takes its live gauges with it
(`process_stopped`).
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from starlette.responses import Response

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


def metrics_response() -> Response:
    """The metrics in Prometheus' text format: every worker's when they share a directory."""
    if os.environ.get(MULTIPROC_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), 200, media_type=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), 200, media_type=CONTENT_TYPE_LATEST)


def process_stopped() -> None:
    """Drop this process's live gauges (`live*` modes) from the shared directory."""
    if os.environ.get(MULTIPROC_DIR):
        multiprocess.mark_process_dead(os.getpid())
