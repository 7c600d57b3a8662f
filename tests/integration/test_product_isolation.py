"""Row-level security on PostgreSQL: a product role touches only its own rows (docs/REFERENCE.md, Tables the products write).

These tests connect as the roles that `acd-warehouse roles` creates, never as the owner.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from acd_analytics.warehouse_url import WarehouseTarget, parse_warehouse_url

from orchestration.cli import main
from warehouse_db.connection import connect
from warehouse_db.migrations import migrate
from warehouse_db.roles import RoleError, create_analyst_role, create_product_role

pytestmark = pytest.mark.postgres

EVENT = "insert into shared_events (event_id, product, event_name, user_id, occurred_at, properties, context) values (%s, %s, 'page_viewed', 'u1', now(), '{}', '{}')"
ASSET = "insert into shared_assets (id, sha256, kind, product, created_at) values (%s, %s, 'image', %s, now())"


@pytest.fixture
def owner(postgres_url: str) -> Iterator[WarehouseTarget]:
    target = parse_warehouse_url(postgres_url)
    migrate(target)
    with connect(target) as conn:
        for product in ("prod-a", "prod-b"):
            conn.execute(EVENT, (str(uuid.uuid4()), product))
            conn.execute(ASSET, (f"asset-{product}", uuid.uuid4().hex * 2, product))
    yield target


def login(url: str) -> psycopg.Connection:
    return psycopg.connect(parse_warehouse_url(url).postgres_conninfo or "", autocommit=True)


def test_product_role_sees_and_writes_only_its_own_rows(owner: WarehouseTarget) -> None:
    role_a = create_product_role(owner, "prod-a")
    with login(role_a.connection_url) as conn:
        assert conn.execute("select current_user").fetchone() == (role_a.role_name,)
        assert conn.execute("select distinct product from shared_events").fetchall() == [
            ("prod-a",)
        ]
        assert conn.execute("select distinct product from shared_assets").fetchall() == [
            ("prod-a",)
        ]

        conn.execute(EVENT, (str(uuid.uuid4()), "prod-a"))
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(EVENT, (str(uuid.uuid4()), "prod-b"))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("update shared_events set user_id = 'stolen' where product = 'prod-b'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("delete from shared_events where product = 'prod-b'")

        # Assets may be updated and deleted, but only the product's own.
        assert (
            conn.execute("update shared_assets set uri = 'x' where product = 'prod-b'").rowcount
            == 0
        )
        assert conn.execute("delete from shared_assets where product = 'prod-b'").rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("update shared_assets set product = 'prod-b' where product = 'prod-a'")

    with connect(owner) as conn:
        counts = dict(
            conn.execute("select product, count(*) from shared_events group by product").fetchall()
        )
        assert counts == {"prod-a": 2, "prod-b": 1}
        assert conn.execute(
            "select count(*) from shared_assets where product = 'prod-b' and uri is null"
        ).fetchone() == (1,)


def test_analyst_reads_every_product_but_writes_nothing(owner: WarehouseTarget) -> None:
    analyst = create_analyst_role(owner, "alice")
    with login(analyst.connection_url) as conn:
        rows = conn.execute("select product from shared_events order by product").fetchall()
        assert rows == [("prod-a",), ("prod-b",)]
        assert conn.execute("select count(*) from shared_assets").fetchone() == (2,)
        assert conn.execute("select count(*) from raw_meta.ads_insights").fetchone() == (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(EVENT, (str(uuid.uuid4()), "prod-a"))


def test_rotating_a_password_keeps_one_role(owner: WarehouseTarget) -> None:
    first = create_product_role(owner, "prod-a")
    second = create_product_role(owner, "prod-a")
    assert first.role_name == second.role_name
    assert first.connection_url != second.connection_url
    with connect(owner) as conn:
        assert conn.execute("select count(*) from acd_access_roles").fetchone() == (1,)


def test_a_role_name_cannot_switch_between_product_and_analyst(owner: WarehouseTarget) -> None:
    create_analyst_role(owner, "shared")
    with pytest.raises(RoleError, match="already exists"):
        create_product_role(owner, "shared")


def test_cli_prints_the_connection_url(
    owner: WarehouseTarget, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ACD_WAREHOUSE_URL", owner.url)
    assert main(["roles", "create-product", "prod-b"]) == 0
    url = capsys.readouterr().out.splitlines()[-1]
    with login(url) as conn:
        assert conn.execute("select distinct product from shared_events").fetchall() == [
            ("prod-b",)
        ]


def test_roles_refuse_duckdb_and_bad_slugs(
    duckdb_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ACD_WAREHOUSE_URL", duckdb_url)
    assert main(["roles", "create-product", "portal28"]) == 1
    assert "need a PostgreSQL warehouse" in capsys.readouterr().err
    assert main(["roles", "create-product", "Bad Slug"]) == 1
    assert "product 'Bad Slug' must match" in capsys.readouterr().err
