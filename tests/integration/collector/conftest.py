"""A collector on 127.0.0.1 over a fresh warehouse (each backend), and helpers to read it.

`collector` serves the app with uvicorn in a thread of the test process (real HTTP, real
journal, real loader); `collector_process` runs `acd-warehouse collector` as a child
process, for the tests that kill it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from acd_analytics.warehouse_url import WarehouseTarget

from collector.app import create_app
from collector.keys import create_key
from collector.settings import CollectorSettings
from tests.conftest import free_port, wait_until
from tests.integration.sdk.conftest import query

PRODUCT = "portal28"


@dataclass
class Collector:
    url: str
    key: str
    target: WarehouseTarget
    journal_dir: Path
    server: Any = None
    thread: threading.Thread | None = None
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))

    def post(
        self, path: str, body: Any = None, *, key: str | None = "", **kwargs: Any
    ) -> httpx.Response:
        """POST with `key` as the HTTP Basic username (default: the collector's; None: none)."""
        if key is not None:
            kwargs["auth"] = (key or self.key, "")
        if body is not None:
            kwargs["json"] = body
        return self.http.post(self.url + path, **kwargs)

    def pending(self) -> int:
        return int(self.http.get(self.url + "/ready").json()["journal_pending_bytes"])

    def settle(self) -> None:
        """Wait until the journal is loaded into the warehouse."""
        wait_until(lambda: self.pending() == 0, what="the journal to be loaded")

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return query(self.target, sql)

    def count(self, table: str = "shared_events") -> int:
        return int(self.rows(f"select count(*) from {table}")[0][0])


def start_server(
    target: WarehouseTarget, journal_dir: Path, key: str, **settings: Any
) -> Collector:
    port = free_port()
    app = create_app(target, CollectorSettings(journal_dir=journal_dir, **settings), key_ttl=0.2)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        proxy_headers=False,  # as `acd-warehouse collector` runs it
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    running = Collector(f"http://127.0.0.1:{port}", key, target, journal_dir, server, thread)
    wait_until(lambda: server.started, timeout=15, what="the collector to start")
    return running


def stop_server(running: Collector) -> None:
    running.server.should_exit = True
    if running.thread is not None:
        running.thread.join(timeout=30)
    running.http.close()


@pytest.fixture
def write_key(warehouse: WarehouseTarget) -> str:
    return create_key(warehouse, PRODUCT, [])[1]


@pytest.fixture
def collector(warehouse: WarehouseTarget, write_key: str, tmp_path: Path) -> Iterator[Collector]:
    running = start_server(warehouse, tmp_path / "journal", write_key)
    try:
        yield running
    finally:
        stop_server(running)


class CollectorProcess:
    """`acd-warehouse collector` as a child process that can be killed and restarted."""

    def __init__(
        self, target: WarehouseTarget, journal_dir: Path, key: str, log: Path, workers: int = 1
    ) -> None:
        self.target = target
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.key = key
        self.log = log
        self.env = {
            **os.environ,
            "ACD_WAREHOUSE_URL": target.url,
            "ACD_COLLECTOR_JOURNAL_DIR": str(journal_dir),
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "orchestration.cli",
                    "collector",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                ],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

        def healthy() -> bool:
            try:
                return httpx.get(self.url + "/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        # Several workers import the app side by side: on a busy machine that takes a while.
        timeout = 30 if self.workers == 1 else 90
        wait_until(healthy, timeout=timeout, what="the collector process to start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def pending(self) -> int:
        return int(httpx.get(self.url + "/ready", timeout=5).json()["journal_pending_bytes"])


@pytest.fixture
def collector_process(
    warehouse: WarehouseTarget, write_key: str, tmp_path: Path
) -> Iterator[CollectorProcess]:
    process = CollectorProcess(
        warehouse, tmp_path / "journal", write_key, tmp_path / "collector.log"
    )
    try:
        yield process
    finally:
        process.stop()


class TcpProxy:
    """A TCP proxy the test controls: `cut()` drops every connection and refuses new ones
    (the warehouse "stops"), `restore()` lets them through again."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = int(self.listener.getsockname()[1])
        self.is_cut = False
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.is_cut:
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self.lock:
                self.sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.is_cut = True
        with self.lock:
            sockets, self.sockets = self.sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def restore(self) -> None:
        self.is_cut = False

    def close(self) -> None:
        self.cut()
        self.listener.close()
