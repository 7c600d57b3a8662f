"""Orchestration fixtures: placeholder settings, and a small sample world served over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from acd_sample_world.config import WorldConfig, yesterday_utc
from acd_sample_world.events import ListEventWriter
from acd_sample_world.fake_apis.server import SampleWorldServer
from acd_sample_world.generate import ListTableSink, generate_world

PLACEHOLDER_SETTINGS = {
    "META_ACCESS_TOKEN": "placeholder-meta-token",
    "META_AD_ACCOUNT_IDS": "act_1",
    "TIKTOK_ACCESS_TOKEN": "placeholder-tiktok-token",
    "TIKTOK_ADVERTISER_IDS": "1",
    "TIKTOK_DISPLAY_ACCESS_TOKEN": "placeholder-display-token",
    "STRIPE_API_KEY": "sk_test_placeholder",
}


@pytest.fixture(autouse=True)
def placeholder_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACD_WAREHOUSE_URL", "duckdb:///:memory:")
    for name, value in PLACEHOLDER_SETTINGS.items():
        monkeypatch.setenv(name, value)


def payload_world(out_dir: Path, *, users: int = 120, days: int = 8) -> dict[str, Any]:
    """The API payloads of a small world ending yesterday (no warehouse rows, no events)."""
    config = WorldConfig(users=users, days=days, seed=7, end_date=yesterday_utc(), out_dir=out_dir)
    return generate_world(config, events=ListEventWriter(), tables=ListTableSink())


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("orchestration-world")
    payload_world(out)
    return out


@pytest.fixture
def world_server(world_dir: Path) -> Iterator[SampleWorldServer]:
    with SampleWorldServer(world_dir) as server:
        yield server


def server_base_urls(server: SampleWorldServer) -> dict[str, str]:
    return {
        "meta": server.meta_api_base_url,
        "tiktok": server.tiktok_api_base_url,
        "tiktok_display": server.tiktok_display_api_base_url,
        "stripe": server.stripe_api_base_url,
    }
