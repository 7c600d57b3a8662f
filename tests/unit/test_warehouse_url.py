from pathlib import Path

import pytest
from acd_analytics.warehouse_url import (
    DEFAULT_WAREHOUSE_URL,
    InvalidWarehouseURL,
    parse_warehouse_url,
    resolve_warehouse_url,
)


def test_relative_duckdb_path_resolves_against_base_dir() -> None:
    target = parse_warehouse_url("duckdb:///warehouse/acd.duckdb", base_dir=Path("/srv/app"))
    assert target.backend == "duckdb"
    assert target.duckdb_path == "/srv/app/warehouse/acd.duckdb"


def test_absolute_duckdb_path_has_four_slashes() -> None:
    assert parse_warehouse_url("duckdb:////data/acd.duckdb").duckdb_path == "/data/acd.duckdb"


def test_in_memory_duckdb() -> None:
    assert parse_warehouse_url("duckdb:///:memory:").duckdb_path == ":memory:"


def test_postgres_url_parts_and_libpq_conninfo() -> None:
    target = parse_warehouse_url(
        "postgresql+psycopg://acd:s%40cret@db.internal:6543/warehouse?sslmode=require"
    )
    assert target.backend == "postgres"
    assert (target.host, target.port, target.user, target.password, target.database) == (
        "db.internal",
        6543,
        "acd",
        "s@cret",
        "warehouse",
    )
    assert (
        target.postgres_conninfo
        == "postgresql://acd:s%40cret@db.internal:6543/warehouse?sslmode=require"
    )


def test_redacted_hides_the_password() -> None:
    target = parse_warehouse_url("postgresql+psycopg://acd:hunter2@localhost/acd")
    assert "hunter2" not in target.redacted()
    assert target.redacted() == "postgresql+psycopg://acd:***@localhost/acd"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///x.db", "unsupported scheme"),
        ("warehouse.duckdb", "must look like"),
        ("postgresql+psycopg://acd:hunter2@localhost", "must name a database"),
    ],
)
def test_bad_urls_name_the_setting(url: str, message: str) -> None:
    with pytest.raises(InvalidWarehouseURL, match=message) as raised:
        parse_warehouse_url(url)
    assert "ACD_WAREHOUSE_URL" in str(raised.value)
    assert "hunter2" not in str(raised.value)


def test_default_is_embedded_duckdb(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACD_WAREHOUSE_URL", raising=False)
    assert resolve_warehouse_url() == DEFAULT_WAREHOUSE_URL == "duckdb:///warehouse/acd.duckdb"
    monkeypatch.setenv("ACD_WAREHOUSE_URL", "duckdb:///other.duckdb")
    assert resolve_warehouse_url() == "duckdb:///other.duckdb"
    assert resolve_warehouse_url("duckdb:///explicit.duckdb") == "duckdb:///explicit.duckdb"


def test_the_repr_of_a_target_hides_the_password() -> None:
    target = parse_warehouse_url("postgresql+psycopg://acd:s3cret@db:5432/warehouse")
    assert (
        repr(target)
        == "WarehouseTarget('postgres', 'postgresql+psycopg://acd:***@db:5432/warehouse')"
    )
    assert "s3cret" not in f"{target!r} {[target]}"
