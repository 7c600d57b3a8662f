"""The read API in front of the session's sample-world warehouse of each backend.

Building is the slow part (seed, ingest through the real connectors, `dbt build`), so the
tests use the warehouse `tests/integration/conftest.py` builds once per backend for the whole
session; they only read the marts, and what they write (keys, audit rows) they name uniquely.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from acd_analytics.warehouse_url import WarehouseTarget
from starlette.testclient import TestClient

from api.app import ReadApi, create_app
from api.keys import create_read_key, revoke_read_key
from api.settings import ApiSettings
from api.warehouse import DuckDBReader
from orchestration.defs.dbt.project import ensure_manifest
from tests.conftest import BACKENDS, PerBackend, free_port, pick_backend
from tests.integration.conftest import Built
from warehouse_db.connection import connect

# High enough that no test but the one about it meets the limit.
TEST_RATE = 100_000.0


class Harness:
    """A built warehouse and the read API over it, with helpers to make keys and look inside."""

    def __init__(self, target: WarehouseTarget, client: TestClient, work_dir: Path) -> None:
        self.target = target
        self.client = client
        self.work_dir = work_dir
        self.api: ReadApi = client.app.state.api  # type: ignore[attr-defined]

    @property
    def backend(self) -> str:
        return self.target.backend

    @contextlib.contextmanager
    def owner(self) -> Iterator[None]:
        """Room for the test's own writes: on DuckDB, the API's readers and audit wait."""
        reader = self.api.reader
        if isinstance(reader, DuckDBReader):
            with reader.exclusive():
                yield
        else:
            yield

    def query(self, statement: str) -> list[tuple[Any, ...]]:
        with self.owner(), connect(self.target) as conn:
            return [tuple(row) for row in conn.execute(statement).fetchall()]

    def key(
        self, product: str | None = None, marts: tuple[str, ...] | None = None, name: str = ""
    ) -> tuple[str, str]:
        """A new read key: (key_id, key)."""
        with self.owner():
            key, secret = create_read_key(
                self.target, name or f"test-{uuid.uuid4().hex[:8]}", product, marts
            )
        return key.key_id, secret

    def revoke(self, key_id: str) -> None:
        with self.owner():
            revoke_read_key(self.target, key_id)

    def get(self, path: str, key: str | None, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        return self.client.get(path, headers=headers, **kwargs)

    def flush_audit(self) -> None:
        assert self.api.audit is not None
        self.api.audit.flush()


@pytest.fixture(scope="session")
def manifest_path() -> Path:
    return ensure_manifest()


@pytest.fixture(scope="session")
def harnesses(built_worlds: dict[str, Built], manifest_path: Path) -> Iterator[dict[str, Harness]]:
    """The read API over the session's sample-world warehouse of each backend (the tests
    write only keys and audit rows, which no other reader of that warehouse looks at)."""
    stack = contextlib.ExitStack()

    def serve(backend: str) -> Harness:
        target, work_dir = built_worlds[backend].target, built_worlds[backend].work_dir
        app = create_app(target, ApiSettings(rate_limit=TEST_RATE), manifest=manifest_path)
        client = stack.enter_context(TestClient(app))
        return Harness(target, client, work_dir)

    with stack:
        yield PerBackend(serve)


@pytest.fixture(params=BACKENDS)
def harness(request: pytest.FixtureRequest, harnesses: dict[str, Harness]) -> Harness:
    return pick_backend(request, harnesses)


@pytest.fixture
def live_url(harness: Harness) -> Iterator[str]:
    """The harness's app served over real HTTP by uvicorn in a thread."""
    port = free_port()
    # The app is already started by the harness's TestClient: no second lifespan.
    config = uvicorn.Config(
        harness.client.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
