"""The Dagster UI shows the names of the secret settings, never their values.

A live `dagster-webserver` loads the production code location with a warehouse URL that holds
a password and with API tokens set; its GraphQL API (what the Resources page reads) must show
`ACD_WAREHOUSE_URL` and the token variables as `ENV_VAR`, and no value anywhere.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import httpx
import pytest

from tests.conftest import free_port
from tests.orchestration.conftest import PLACEHOLDER_SETTINGS

pytestmark = pytest.mark.slow

WEBSERVER = str(Path(sys.executable).with_name("dagster-webserver"))
LOCATION = "orchestration.definitions"
RESOURCES_QUERY = """
query Resources($selector: RepositorySelector!) {
  allTopLevelResourceDetailsOrError(repositorySelector: $selector) {
    __typename
    ... on ResourceDetailsList {
      results { name configuredValues { key value type } }
    }
  }
}
"""


@pytest.fixture
def secrets() -> dict[str, str]:
    """A secret value per setting, unique to this test so any occurrence is a leak."""
    unique = uuid.uuid4().hex
    return {
        "password": f"Pw{unique[:16]}",
        **{name: f"{value}-{unique[16:]}" for name, value in PLACEHOLDER_SETTINGS.items()},
    }


@pytest.fixture
def webserver(tmp_path: Path, secrets: dict[str, str]) -> Iterator[str]:
    port = free_port()
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {
        **os.environ,
        **{name: secrets[name] for name in PLACEHOLDER_SETTINGS},
        "ACD_WAREHOUSE_URL": f"postgresql+psycopg://postgres:{secrets['password']}@127.0.0.1:5432/acd",
        "DAGSTER_HOME": str(tmp_path),
    }
    log = (tmp_path / "webserver.log").open("w+")
    process = subprocess.Popen(
        [WEBSERVER, "-m", LOCATION, "-h", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/server_info", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"dagster-webserver did not start:\n{log.read()[-3000:]}")
            time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.seek(0)
        output = log.read()
        log.close()
        for value in secrets.values():
            assert value not in output, "a secret reached the webserver's log"


def test_the_resources_page_shows_variable_names_not_secrets(
    webserver: str, secrets: dict[str, str]
) -> None:
    selector = {"repositoryLocationName": LOCATION, "repositoryName": "__repository__"}
    response = httpx.post(
        f"{webserver}/graphql",
        json={"query": RESOURCES_QUERY, "variables": {"selector": selector}},
        timeout=60,
    )
    response.raise_for_status()
    body = response.json()
    details = body["data"]["allTopLevelResourceDetailsOrError"]
    assert details["__typename"] == "ResourceDetailsList", body
    values = {
        (resource["name"], value["key"]): value
        for resource in details["results"]
        for value in resource["configuredValues"]
    }
    assert values[("warehouse", "url")] == {
        "key": "url",
        "value": "ACD_WAREHOUSE_URL",
        "type": "ENV_VAR",
    }
    assert values[("meta", "access_token")]["type"] == "ENV_VAR"
    assert values[("stripe", "api_key")]["type"] == "ENV_VAR"
    text = json.dumps(body)
    for name, value in secrets.items():
        assert value not in text, f"{name} is shown by the webserver"


def test_the_warehouse_resource_takes_a_password_only_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from acd_analytics.warehouse_url import parse_warehouse_url

    from orchestration.defs.resources import (
        WarehouseSecretOutsideEnvironment,
        warehouse_resource,
    )

    url = "postgresql+psycopg://acd:s3cret@db:5432/acd"
    monkeypatch.setenv("ACD_WAREHOUSE_URL", url)
    from_env = warehouse_resource(parse_warehouse_url(url))
    assert from_env.url == dg.EnvVar("ACD_WAREHOUSE_URL")
    assert warehouse_resource().url == dg.EnvVar("ACD_WAREHOUSE_URL")
    with pytest.raises(WarehouseSecretOutsideEnvironment, match="acd:\\*\\*\\*@db") as raised:
        warehouse_resource(parse_warehouse_url(url.replace("5432/acd", "5432/other")))
    assert "s3cret" not in str(raised.value)
    monkeypatch.delenv("ACD_WAREHOUSE_URL")
    assert warehouse_resource().url == "duckdb:///warehouse/acd.duckdb"
