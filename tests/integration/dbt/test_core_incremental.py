"""fct_events is incremental (merge on event_id): a run after new data gives exactly the rows
of a full refresh, including old anonymous events whose anonymous id was claimed since; with a
partition window (vars events_received_from / until) it rebuilds exactly the window's events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from acd_analytics.warehouse_url import WarehouseTarget, parse_warehouse_url

from tests.integration.dbt.conftest import RunDbt, eid, query, track, window_vars
from warehouse_db.connection import connect
from warehouse_db.migrations import migrate

pytestmark = pytest.mark.slow

T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
DAY = timedelta(days=1)
META = {"campaign": {"source": "facebook", "name": "c1", "content": "ad1"}}
# Re-read nothing before the newest loaded event, so that only the claim can bring old rows back.
NO_LOOKBACK = ["--vars", "{events_late_arrival_hours: 0}"]
COLUMNS = "event_id, person_id, user_id, anonymous_id, channel, campaign_id, ad_id, occurred_date"


# An anonymous ad visit three days before T0.
OLD_ANONYMOUS_VISIT = {
    "event_name": "page_viewed",
    "product": "portal28",
    "anonymous_id": "a_late",
    "occurred_at": T0 - 3 * DAY,
    "event_id": eid(1),
    "context": META,
}
# a_late claimed by u_late at T0, after the first build.
LATE_CLAIM = {
    "event_name": "signup_completed",
    "properties": {"method": "email"},
    "product": "portal28",
    "user_id": "u_late",
    "anonymous_id": "a_late",
    "occurred_at": T0,
    "event_id": eid(4),
}
# A late event: it happened long ago and is received now.
LONG_AGO_VISIT = {
    "event_name": "page_viewed",
    "product": "pct",
    "anonymous_id": "a_1",
    "occurred_at": T0 - 20 * DAY,
    "event_id": eid(5),
    "context": {"page": {"url": "https://x.io/?ttclid=t"}},
}


def test_incremental_run_equals_full_refresh(
    warehouse: WarehouseTarget, run_dbt: RunDbt, tmp_path: Path
) -> None:
    track(
        warehouse,
        tmp_path / "spool",
        [
            OLD_ANONYMOUS_VISIT,
            {
                "event_name": "page_viewed",
                "product": "portal28",
                "anonymous_id": "a_late",
                "occurred_at": T0 - 2 * DAY,
                "event_id": eid(2),
            },
            {
                "event_name": "signup_completed",
                "properties": {"method": "email"},
                "product": "pct",
                "user_id": "u_1",
                "anonymous_id": "a_1",
                "occurred_at": T0 - 2 * DAY,
                "event_id": eid(3),
            },
        ],
    )
    run_dbt(
        warehouse,
        [
            "build",
            "--select",
            "+fct_events",
            "--indirect-selection",
            "cautious",
            "--exclude",
            "test_type:unit",
            *NO_LOOKBACK,
        ],
    )
    assert (
        dict(query(warehouse, "select event_id, person_id from marts.fct_events"))[eid(1)]
        == "anon:a_late"
    )

    track(
        warehouse,
        tmp_path / "spool",
        [
            LATE_CLAIM,  # its old anonymous events must move to u_late
            LONG_AGO_VISIT,
        ],
    )
    run_dbt(warehouse, ["run", "--select", "+fct_events", *NO_LOOKBACK])
    incremental = query(warehouse, f"select {COLUMNS} from marts.fct_events order by event_id")

    run_dbt(warehouse, ["run", "--select", "fct_events", "--full-refresh", *NO_LOOKBACK])
    full_refresh = query(warehouse, f"select {COLUMNS} from marts.fct_events order by event_id")

    assert incremental == full_refresh
    persons = {row[0]: row[1] for row in incremental}
    assert persons == {
        eid(1): "u_late",
        eid(2): "u_late",
        eid(3): "u_1",
        eid(4): "u_late",
        eid(5): "u_1",
    }


def test_a_partition_window_drives_which_received_events_are_rebuilt(
    warehouse: WarehouseTarget, run_dbt: RunDbt, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    track(
        warehouse,
        spool,
        [
            OLD_ANONYMOUS_VISIT,
        ],
    )
    run_dbt(warehouse, ["seed", "--select", "channel_mapping"])
    run_dbt(warehouse, ["run", "--select", "+fct_events"])
    track(
        warehouse,
        spool,
        [
            LATE_CLAIM,
            LONG_AGO_VISIT,
        ],
    )
    [(second_from, second_until)] = query(
        warehouse,
        f"select min(received_at), max(received_at) from shared_events"
        f" where event_id in ('{eid(4)}', '{eid(5)}')",
    )
    persons = "select event_id, person_id from marts.fct_events order by event_id"

    # A window before the second batch: none of it is loaded, but the claim it carries still
    # moves the old anonymous event (re-identification ignores the window).
    run_dbt(
        warehouse, ["run", "--select", "+fct_events", *window_vars(T0 - 400 * DAY, second_from)]
    )
    assert query(warehouse, persons) == [(eid(1), "u_late")]

    # The second batch's window loads it; a row of the window already loaded is rebuilt too.
    second = window_vars(second_from, second_until + timedelta(seconds=1))
    run_dbt(warehouse, ["run", "--select", "+fct_events", *second])
    with connect(warehouse) as conn:
        conn.execute(f"update marts.fct_events set channel = null where event_id = '{eid(5)}'")
    run_dbt(warehouse, ["run", "--select", "+fct_events", *second])
    windowed = query(warehouse, f"select {COLUMNS} from marts.fct_events order by event_id")

    run_dbt(warehouse, ["run", "--select", "fct_events", "--full-refresh"])
    assert windowed == query(warehouse, f"select {COLUMNS} from marts.fct_events order by event_id")
    assert [row[4] for row in windowed] == ["meta", None, "tiktok"]


@pytest.mark.parametrize(
    ("dbt_vars", "message"),
    [
        (
            {"events_received_from": "2025-03-01T00:00:00+00:00"},
            "var events_received_until is missing",
        ),
        (
            {"events_received_from": "2025-03-01", "events_received_until": "2025-03-02"},
            "var events_received_from must be an ISO timestamp with a UTC offset",
        ),
        (
            {
                "events_received_from": "2025-03-02T00:00:00+00:00",
                "events_received_until": "2025-03-01T00:00:00+00:00",
            },
            "var events_received_from must be before events_received_until",
        ),
    ],
)
def test_a_bad_partition_window_fails_naming_the_var(
    duckdb_url: str, run_dbt: RunDbt, dbt_vars: dict[str, str], message: str
) -> None:
    target = parse_warehouse_url(duckdb_url)
    migrate(target)
    result = run_dbt(
        target,
        ["compile", "--select", "fct_events", "--vars", json.dumps(dbt_vars)],
        check=False,
    )
    assert result.returncode != 0
    assert message in result.stdout
