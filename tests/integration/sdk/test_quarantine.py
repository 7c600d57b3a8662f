"""Rows the warehouse refuses for good are quarantined; they never block the events behind them.

A permanent error (CHECK, row-level security, a bad UUID…) is bisected down to the offending
rows, the others are delivered, the offending ones go to `quarantine/<segment>.jsonl` in the
spool directory. A transient error (here: a missing grant) is retried, never quarantined.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from acd_analytics import Client, EventsQuarantined
from acd_analytics.events import build_record, encode_line
from acd_analytics.spool import target_directory
from acd_analytics.warehouse_url import WarehouseTarget, parse_warehouse_url

from tests.integration.sdk.conftest import query
from warehouse_db.connection import connect
from warehouse_db.roles import create_product_role


def quarantined(spool_dir: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in sorted(spool_dir.rglob("quarantine/*.jsonl"))
        for line in path.read_text().splitlines()
    ]


def stored_ids(warehouse: WarehouseTarget) -> set[str]:
    return {
        row[0] for row in query(warehouse, "select cast(event_id as varchar) from shared_events")
    }


def test_rows_that_bypassed_validation_are_quarantined_and_the_rest_delivered(
    warehouse: WarehouseTarget, spool_dir: Path
) -> None:
    """A journal written by a crashed process holds lines the warehouse refuses (a foreign or
    older writer, a hand edit): a product slug and an event id that break the table's rules."""
    good = [
        build_record("portal28", "page_viewed", {"n": n}, f"u{n}", None, None, None, None, None)
        for n in range(300)
    ]

    def raw(event_id: str, product: str, user_id: str | None) -> tuple[Any, ...]:
        return (
            event_id,
            product,
            "page_viewed",
            user_id,
            None,
            None,
            1_700_000_000_000_000,
            "{}",
            "{}",
        )

    bad_records = [
        raw(str(uuid.uuid4()), "NOT A SLUG", "u"),  # CHECK shared_events_product_format
        raw("bad-uuid", "portal28", "u"),  # event_id is not a UUID
        raw(str(uuid.uuid4()), "portal28", None),  # CHECK user_id or anonymous_id
    ]
    lines = [encode_line(record) for record in good[:100]]
    lines += [encode_line(record) for record in bad_records[:2]]  # type: ignore[arg-type]
    lines += [encode_line(record) for record in good[100:250]]
    lines += [encode_line(bad_records[2])]  # type: ignore[arg-type]
    lines += [encode_line(record) for record in good[250:]]
    journal = target_directory(spool_dir, warehouse)
    journal.mkdir(parents=True)
    (journal / "seg-00000000000000000001-1-deadbeef.jsonl").write_bytes(b"".join(lines))

    errors: list[tuple[BaseException, int]] = []
    client = Client(
        warehouse.url,
        "portal28",
        spool_dir=spool_dir,
        batch_size=1_000,
        on_error=lambda exc, count: errors.append((exc, count)),
    )
    later = [client.track("page_viewed", {"n": n}, user_id="later") for n in range(200)]
    assert client.flush(timeout=60)  # the orphan is done with, refused rows and all
    stats = client.stats()
    client.shutdown()

    assert stored_ids(warehouse) == {record[0] for record in good} | set(later)
    assert stats["quarantined"] == 3 and stats["replayed"] == 300
    entries = quarantined(spool_dir)
    assert [path.name for path in spool_dir.rglob("quarantine/*.jsonl")] == [
        "seg-00000000000000000001-1-deadbeef.jsonl"
    ]
    assert sorted(entry["event"]["event_id"] for entry in entries) == sorted(
        record[0] for record in bad_records
    )
    by_id = {entry["event"]["event_id"]: entry["error"] for entry in entries}
    assert "check" in by_id[bad_records[0][0]].lower() and "product" in by_id[bad_records[0][0]]
    assert "bad-uuid" in by_id["bad-uuid"]
    assert "check" in by_id[bad_records[2][0]].lower() and "user_id" in by_id[bad_records[2][0]]
    assert sum(count for exc, count in errors if isinstance(exc, EventsQuarantined)) == 3
    assert not list(spool_dir.glob("*/seg-*.jsonl"))  # the orphan segment was finished


@pytest.mark.postgres
def test_events_of_another_product_are_quarantined_under_row_level_security(
    postgres_url: str, spool_dir: Path
) -> None:
    from warehouse_db.migrations import migrate

    owner = parse_warehouse_url(postgres_url)
    migrate(owner)
    role = create_product_role(owner, "portal28")
    errors: list[BaseException] = []
    client = Client(
        role.connection_url,
        "portal28",
        spool_dir=spool_dir,
        batch_size=500,
        on_error=lambda exc, count: errors.append(exc),
    )
    own: list[str] = []
    foreign: list[str] = []
    for n in range(2_000):
        if n % 400 == 7:  # a product role tracking an event of another product
            foreign.append(
                client.track("page_viewed", {"n": n}, user_id="u", product="waitlistlab")
            )
        else:
            own.append(client.track("page_viewed", {"n": n}, user_id="u"))
    assert client.flush(timeout=60)
    own += [client.track("signup_completed", {"method": "email"}, user_id="u") for _ in range(50)]
    assert client.flush(timeout=60)
    stats = client.stats()
    client.shutdown()

    assert stored_ids(owner) == set(own)
    assert stats["quarantined"] == len(foreign) == 5
    assert stats["failed_attempts"] == 0
    entries = quarantined(spool_dir)
    assert sorted(entry["event"]["event_id"] for entry in entries) == sorted(foreign)
    assert all("row-level security" in entry["error"] for entry in entries)
    assert all(entry["event"]["product"] == "waitlistlab" for entry in entries)
    assert sorted(
        i for exc in errors if isinstance(exc, EventsQuarantined) for i in exc.event_ids
    ) == (sorted(foreign))


@pytest.mark.postgres
def test_a_missing_grant_is_retried_not_quarantined(postgres_url: str, spool_dir: Path) -> None:
    """ "permission denied for table" refuses every row for a reason that is not theirs: the
    events wait (retried with backoff) until the grant is fixed, and nothing is quarantined."""
    from psycopg import sql

    from warehouse_db.migrations import migrate

    owner = parse_warehouse_url(postgres_url)
    migrate(owner)
    role = create_product_role(owner, "portal28")
    revoke = sql.SQL("revoke insert on shared_events from {}").format(
        sql.Identifier(role.role_name)
    )
    with connect(owner) as conn:
        conn.execute(revoke)
        conn.commit()
    errors: list[BaseException] = []
    client = Client(
        role.connection_url,
        "portal28",
        spool_dir=spool_dir,
        batch_size=50,
        flush_interval=0.05,
        on_error=lambda exc, count: errors.append(exc),
    )
    ids = [client.track("page_viewed", {"n": n}, user_id="u") for n in range(120)]
    assert not client.flush(timeout=1.0)
    during = client.stats()
    with connect(owner) as conn:
        conn.execute(
            sql.SQL("grant insert on shared_events to {}").format(sql.Identifier(role.role_name))
        )
        conn.commit()
    assert client.flush(timeout=60)
    stats = client.stats()
    client.shutdown()

    assert during["failed_attempts"] > 0 and during["quarantined"] == 0
    assert errors and "permission denied" in str(errors[0])
    assert stats["quarantined"] == 0
    assert stored_ids(owner) == set(ids)
    assert not quarantined(spool_dir)
