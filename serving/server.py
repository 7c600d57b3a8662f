"""Run an ASGI app factory under uvicorn, the same way for every service.

uvicorn's access log is off (paths and query strings can carry keys; each app logs its own
redacted line through `serving.requestlog`), there is no `Server` header, and
`X-Forwarded-For` is left to the app, which decides whom to believe.
"""

from __future__ import annotations

import logging
import os

from acd_analytics.warehouse_url import WarehouseTarget


def serve(factory: str, target: WarehouseTarget, *, host: str, port: int, workers: int = 1) -> None:
    """Serve `factory` ("package.module:create_app", called with no arguments in each worker)."""
    import uvicorn

    # Worker processes build their app from the environment: hand them the resolved URL.
    os.environ["ACD_WAREHOUSE_URL"] = target.url
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
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
    )
