"""The sample transport: a local HTTP server that serves a sample world like the live APIs.

    with SampleWorldServer(Path("warehouse/sample_world")) as world:
        world.meta_api_base_url        # http://127.0.0.1:PORT/meta/v21.0
        world.tiktok_api_base_url      # http://127.0.0.1:PORT/tiktok/open_api/v1.3
        world.tiktok_display_api_base_url
        world.stripe_api_base_url      # give to StripeClient(base_addresses={"api": …})
        world.now = datetime(2024, 6, 10, 9, tzinfo=UTC)   # move the world's clock

It answers the calls of `docs/API_CONTRACT.md` from the files of `acd_sample_world.store`, with
the vendors' envelopes, paging (Meta `after` cursors and `paging.next`, TikTok `page`/
`page_size`, Display API `cursor`/`has_more`, Stripe `starting_after`/`ending_before`), date
and `created[…]` filters, field selection, token checks and the vendors' error bodies. As of
`now`: only days before `now`'s date are reported, ads show the status they had at `now`,
videos their counters at `now` (interpolated within the day), Stripe lists only objects
created at or before `now` (in their final state) and events of the 30 days before it.
`inject(api, status, body)` makes the next calls to one API fail (throttling tests).

This module is the HTTP plumbing and the routing; each vendor's API is in its own module
(`meta`, `tiktok`, `stripe`), their shared types and helpers in `common`.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from acd_sample_world.fake_apis.common import ApiError, Reply
from acd_sample_world.fake_apis.meta import MetaApi
from acd_sample_world.fake_apis.stripe import StripeApi
from acd_sample_world.fake_apis.tiktok import TikTokApi, TikTokDisplayApi
from acd_sample_world.generate import API_PREFIXES
from acd_sample_world.store import WorldFiles

__all__ = ["ApiError", "Reply", "SampleWorld", "SampleWorldServer"]


@dataclass
class _Injected:
    api: str
    status: int
    body: Any
    headers: dict[str, str]
    remaining: int


class SampleWorld(MetaApi, TikTokApi, TikTokDisplayApi, StripeApi):
    """The request-answering logic, independent of HTTP plumbing (and easy to test): routes each
    request by its path prefix to the vendor's API (`meta`, `tiktok`, `stripe` modules)."""

    def __init__(self, root: Path, now: datetime | None = None) -> None:
        self.files = WorldFiles(root)
        if not self.files.manifest.exists():
            raise FileNotFoundError(
                f"no sample world at {root}: run `acd-warehouse seed --out {root}` first"
            )
        self.manifest = json.loads(self.files.manifest.read_text(encoding="utf-8"))
        default_now = datetime.fromisoformat(self.manifest["default_now"].replace("Z", "+00:00"))
        self.now = now or default_now
        self._load_meta()
        self._load_tiktok()
        self._load_display()
        self._load_stripe()
        self._lock = threading.Lock()
        self._injected: list[_Injected] = []
        self._counter = 0
        self.requests: list[tuple[str, str]] = []

    def inject(
        self,
        api: str,
        status: int,
        body: Any,
        *,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls to `api` (meta|tiktok|tiktok_display|stripe) so."""
        if api not in API_PREFIXES:
            raise ValueError(f"unknown api {api!r}; one of {sorted(API_PREFIXES)}")
        with self._lock:
            self._injected.append(_Injected(api, status, body, headers or {}, times))

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes, base_url: str
    ) -> Reply:
        parts = urlsplit(target)
        path = parts.path
        query = {
            key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()
        }
        with self._lock:
            self.requests.append((method, target))
        for api, prefix in API_PREFIXES.items():
            if path == prefix or path.startswith(prefix + "/"):
                injected = self._take_injected(api)
                if injected is not None:
                    return injected
                rest = path[len(prefix) :]
                try:
                    if api == "meta":
                        return self._meta(method, rest, query, base_url + path)
                    if api == "tiktok":
                        return self._tiktok(method, rest, query, headers)
                    if api == "tiktok_display":
                        return self._display(method, rest, query, headers, body)
                    return self._stripe_api(method, rest, parts.query, headers)
                except ApiError as exc:
                    return Reply(exc.status, exc.body, exc.headers)
        return Reply(404, {"error": f"no sample API at {path}"}, {})

    def _take_injected(self, api: str) -> Reply | None:
        with self._lock:
            for item in self._injected:
                if item.api == api and item.remaining > 0:
                    item.remaining -= 1
                    return Reply(item.status, item.body, dict(item.headers))
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {key.lower(): value for key, value in self.headers.items()}
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
        reply = self.server.world.handle(self.command, self.path, headers, body, f"http://{host}")
        data = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = _serve
    do_POST = _serve
    do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    world: SampleWorld


class SampleWorldServer:
    """Serves a sample world on 127.0.0.1 (an ephemeral port by default) in a thread."""

    def __init__(
        self, root: Path, *, now: datetime | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.world = SampleWorld(Path(root), now)
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.world = self.world
        self._thread: threading.Thread | None = None

    @property
    def now(self) -> datetime:
        return self.world.now

    @now.setter
    def now(self, value: datetime) -> None:
        if value.tzinfo is None:
            raise ValueError("now must be timezone-aware (UTC)")
        self.world.now = value.astimezone(UTC)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def meta_api_base_url(self) -> str:
        return self.base_url + API_PREFIXES["meta"]

    @property
    def tiktok_api_base_url(self) -> str:
        return self.base_url + API_PREFIXES["tiktok"]

    @property
    def tiktok_display_api_base_url(self) -> str:
        return self.base_url + API_PREFIXES["tiktok_display"]

    @property
    def stripe_api_base_url(self) -> str:
        return self.base_url + API_PREFIXES["stripe"]

    @property
    def manifest(self) -> dict[str, Any]:
        return self.world.manifest

    def source_settings(self) -> dict[str, str]:
        """The settings (docs/REFERENCE.md, Settings) that point the real connectors at this server (placeholder
        tokens: the server only checks that one is sent, the way the vendors expect)."""
        accounts = self.manifest["accounts"]
        return {
            "META_ACCESS_TOKEN": "sample-meta-token",
            "META_AD_ACCOUNT_IDS": ",".join(accounts["meta_ad_account_ids"]),
            "META_API_BASE_URL": self.meta_api_base_url,
            "TIKTOK_ACCESS_TOKEN": "sample-tiktok-token",
            "TIKTOK_ADVERTISER_IDS": ",".join(accounts["tiktok_advertiser_ids"]),
            "TIKTOK_API_BASE_URL": self.tiktok_api_base_url,
            "TIKTOK_DISPLAY_ACCESS_TOKEN": "sample-tiktok-display-token",
            "TIKTOK_DISPLAY_API_BASE_URL": self.tiktok_display_api_base_url,
            "STRIPE_API_KEY": "sk_test_sample",
            "STRIPE_API_BASE_URL": self.stripe_api_base_url,
        }

    def inject(
        self,
        api: str,
        status: int,
        body: Any,
        *,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        self.world.inject(api, status, body, headers=headers, times=times)

    def start(self) -> SampleWorldServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, name="sample-world-server", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> SampleWorldServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
