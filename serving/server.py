"""Run an ASGI app factory under uvicorn, the same way for every service.

uvicorn's access log is off (paths and query strings can carry keys; each app logs its own
redacted line through `serving.requestlog`), there is no `Server` header, and
`X-Forwarded-For` is left to the app, which decides whom to believe. With several workers,
the run's metrics are shared through a directory of its own (`serving.metrics`).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile

from acd_analytics.warehouse_url import WarehouseTarget

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"  # serving.metrics reads it


def serve(factory: str, target: WarehouseTarget, *, host: str, port: int, workers: int = 1) -> None:
    """Serve `factory` ("package.module:create_app", called with no arguments in each worker)."""
    import uvicorn

    # Worker processes build their app from the environment: hand them the resolved URL.
    os.environ["ACD_WAREHOUSE_URL"] = target.url
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # Workers are new interpreters that read this before importing prometheus_client: a fresh
    # directory per run, so that no count of an earlier run is added in.
    metrics_dir = None
    if workers > 1 and not os.environ.get(MULTIPROC_DIR):
        metrics_dir = tempfile.mkdtemp(prefix="acd-metrics-")
        os.environ[MULTIPROC_DIR] = metrics_dir
    try:
        uvicorn.run(
            factory,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=False,
            log_level="info",
            server_header=False,
            proxy_headers=False,
            timeout_graceful_shutdown=10,
            # A worker that does not answer the supervisor's ping in time is killed and
            # replaced; on a busy machine importing the app alone can take longer than
            # uvicorn's 5 s, and the replacement then dies the same way.
            timeout_worker_healthcheck=30,
        )
    finally:
        if metrics_dir is not None:
            del os.environ[MULTIPROC_DIR]
            shutil.rmtree(metrics_dir, ignore_errors=True)
