"""A mart page's values written by DuckDB (page_sql's api_form) and the read API's DuckDB
connection, on a small file (no dbt): docs/API.md, How a page is written and Access to the
warehouse."""

from __future__ import annotations

import asyncio
import fcntl
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest
from acd_analytics.warehouse_url import parse_warehouse_url

from api.catalog import Column, Mart
from api.query import api_form_rows, cursor_after, json_page, json_values, page_sql, parse_page
from api.warehouse import DuckDBReader, WarehouseBusy
from warehouse_db.build_lock import build_lock, duckdb_build_lock_path

COLUMNS = (
    Column("id", "bigint", ""),
    Column("name", "text", ""),
    Column("seen_at", "timestamp with time zone", ""),
    Column("local_at", "timestamp", ""),
    Column("day", "date", ""),
    Column("amount", "numeric(38,6)", ""),
    Column("fine", "numeric(38,10)", ""),
    Column("ratio", "double precision", ""),
    Column("flag", "boolean", ""),
    Column("extra", "json", ""),
)
MART = Mart("things", "One row per thing.", COLUMNS, ("id",))


@pytest.fixture
def warehouse(tmp_path: Path) -> str:
    path = str(tmp_path / "warehouse.duckdb")
    conn = duckdb.connect(path)
    conn.execute("set TimeZone = 'America/New_York'")  # the API's text is UTC whatever this is
    conn.execute("create schema marts")
    conn.execute(
        "create table marts.things (id bigint, name text, seen_at timestamptz, local_at timestamp,"
        " day date, amount decimal(38,6), fine decimal(38,10), ratio double, flag boolean,"
        " extra json)"
    )
    start = datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC)
    rows = []
    for number in range(60):
        rows.append(
            [
                number,
                None if number % 7 == 0 else f'thing "{number}"\n\\ é',
                None if number % 5 == 0 else start + timedelta(seconds=number * 3601.5),
                datetime(999, 1, 1) + timedelta(days=number * 1000),
                date(1, 1, 1) + timedelta(days=number * 12345),
                Decimal(f"{number * 12.04 - 300:.6f}") if number % 9 else Decimal(0),
                Decimal(f"{number}E-{number % 12}") if number % 4 else Decimal(0),
                [float("nan"), float("inf"), -0.0, 1e16, 1e-7, 0.1 + 0.2, 2.0**60][number % 7]
                if number % 3
                else number / 7,
                None if number % 11 == 0 else number % 2 == 0,
                orjson.dumps({"n": number, "list": [1.5, None, "x"]}).decode(),
            ]
        )
    conn.executemany("insert into marts.things values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.close()
    return path


@pytest.mark.parametrize(
    "query",
    [
        [("limit", "59")],
        [("limit", "7"), ("order", "-seen_at")],
        [("limit", "9"), ("order", "fine,-ratio")],
        [("limit", "5"), ("order", "day"), ("amount[gte]", "0")],
        # flag is one value on the page: the outer select does not order by it
        [("limit", "4"), ("order", "flag,-ratio"), ("flag", "true")],
    ],
)
def test_duckdb_writes_a_pages_values_as_json_value_does(
    warehouse: str, query: list[tuple[str, str]]
) -> None:
    page = parse_page(MART, query)
    conn = duckdb.connect(warehouse, read_only=True)
    conn.execute("set TimeZone = 'Asia/Kolkata'")
    plain, params = page_sql(page, "?", None, None)
    formed, same_params = page_sql(page, "?", None, None, api_form="duckdb")
    assert params == same_params
    before = conn.execute(plain, params).fetchall()
    after = conn.execute(formed, params).fetchall()
    assert len(before) == len(after) > page.limit
    names = [column.name for column in page.output]
    values = json_values(page.output)(before[: page.limit])
    expected = [list(zip(names, row, strict=True)) for row in values]
    written = orjson.loads(json_page(api_form_rows(page)(after[: page.limit]), None, None))
    assert [list(row.items()) for row in written["data"]] == expected  # names in order
    # The cursor holds the last row's values in their JSON form, whichever statement read it.
    assert cursor_after(page, after[page.limit - 1]) == cursor_after(page, before[page.limit - 1])


def _read(reader: DuckDBReader, statement: str) -> list[tuple[Any, ...]]:
    """`statement`'s rows through a request's session (on an event loop of its own)."""

    async def read() -> list[tuple[Any, ...]]:
        async with reader.session() as session:
            return await session.rows(statement)

    return asyncio.run(read())


def test_the_duckdb_connection_stays_open_between_requests_and_closes_when_idle(
    warehouse: str,
) -> None:
    reader = DuckDBReader(warehouse, statement_timeout_ms=5000, idle_seconds=0.5)
    assert _read(reader, "select count(*) from marts.things") == [(60,)]
    first = reader._conn

    async def dashboard_like() -> list[tuple[Any, ...]]:
        async with reader.session() as session:  # the dashboard's way in: the session's cursor
            return await session.blocking(lambda cursor: cursor.execute("select 1").fetchall())

    assert asyncio.run(dashboard_like()) == [(1,)]
    assert reader._conn is first  # not reopened
    deadline = time.monotonic() + 5
    while reader._conn is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert reader._conn is None
    duckdb.connect(warehouse).close()  # the file is free for a writer
    asyncio.run(reader.close())


def test_a_sessions_blocking_queries_do_not_wait_behind_a_waiting_writer(warehouse: str) -> None:
    """The dashboard's queries use the request's own cursor: a second reader would wait for
    the audit log's write, which waits for the request's session to end."""
    reader = DuckDBReader(warehouse, statement_timeout_ms=5000)

    def write() -> None:
        with reader.exclusive():
            pass

    async def request() -> list[tuple[Any, ...]]:
        async with reader.session() as session:
            writer = threading.Thread(target=write)
            writer.start()
            deadline = time.monotonic() + 5
            while not reader._writers_waiting and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            assert reader._writers_waiting == 1
            found = await asyncio.wait_for(
                session.blocking(
                    lambda cursor: cursor.execute("select count(*) from marts.things").fetchall()
                ),
                timeout=5,
            )
        writer.join(5)
        assert not writer.is_alive()  # the write went ahead once the request ended
        return found

    assert asyncio.run(request()) == [(60,)]
    asyncio.run(reader.close())


def _writer_gets_the_file(reader: DuckDBReader) -> bool:
    """Whether the audit log's writer can take the file within 5 s (no reader left holding it)."""

    def write() -> None:
        with reader.exclusive():
            pass

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    writer.join(5)
    return not writer.is_alive()


def test_a_request_cancelled_while_its_session_opens_gives_its_place_back(warehouse: str) -> None:
    """Cancelled while waiting for the file (here behind a write), the session's worker thread
    still takes a reader's place: the place is given back, or the next write waits forever."""
    reader = DuckDBReader(warehouse, statement_timeout_ms=5000)
    writing, done_writing = threading.Event(), threading.Event()

    def write() -> None:
        with reader.exclusive():
            writing.set()
            done_writing.wait(5)

    async def request() -> None:
        async with reader.session():
            pass

    async def cancel_while_opening() -> None:
        task = asyncio.create_task(request())
        await asyncio.sleep(0.2)  # its thread waits for the write to end
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        done_writing.set()
        await asyncio.sleep(0.5)  # the thread takes its place, the loop gives it back

    writer = threading.Thread(target=write)
    writer.start()
    assert writing.wait(5)
    asyncio.run(cancel_while_opening())
    writer.join(5)
    assert _writer_gets_the_file(reader)
    asyncio.run(reader.close())


def test_a_request_cancelled_during_its_query_interrupts_it(warehouse: str) -> None:
    """Cancelled while its query runs in a worker thread, a request interrupts the query and
    waits for the thread before its session closes the cursor."""
    reader = DuckDBReader(warehouse, statement_timeout_ms=600_000)

    async def request() -> None:
        async with reader.session() as session:
            await session.rows("select count(*) from range(10000000000) as a(x) where x % 7 = 3")

    async def cancel_while_querying() -> None:
        task = asyncio.create_task(request())
        await asyncio.sleep(0.5)
        task.cancel()
        # Not interrupted, the query would run for minutes, and closing the cursor under it
        # would hold the event loop as long.
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_while_querying())
    assert _writer_gets_the_file(reader)
    asyncio.run(reader.close())


BUILD = """
import sys, duckdb
from acd_analytics.warehouse_url import parse_warehouse_url
from warehouse_db.build_lock import build_lock
with build_lock(parse_warehouse_url("duckdb:///" + sys.argv[1])):
    duckdb.connect(sys.argv[1]).close()  # what dbt does next
    print("building", flush=True)
    sys.stdin.readline()
"""


def test_a_build_gets_the_file_from_an_open_reader_and_requests_get_503_meanwhile(
    warehouse: str,
) -> None:
    reader = DuckDBReader(warehouse, statement_timeout_ms=5000, idle_seconds=60)
    _read(reader, "select 1")
    assert reader._conn is not None  # kept open: a minute's idle allowance
    build = subprocess.Popen(
        [sys.executable, "-c", BUILD, warehouse],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert build.stdout is not None and build.stdout.readline().strip() == "building"
        assert reader._conn is None  # let go for the build
        started = time.monotonic()
        with pytest.raises(WarehouseBusy, match="build"):
            _read(reader, "select 1")
        assert time.monotonic() - started < 1
    finally:
        assert build.stdin is not None
        build.stdin.write("done\n")
        build.stdin.close()
        assert build.wait(30) == 0
    assert _read(reader, "select count(*) from marts.things") == [(60,)]
    asyncio.run(reader.close())


def test_a_reader_looking_at_the_build_lock_does_not_fail_a_build(warehouse: str) -> None:
    target = parse_warehouse_url(f"duckdb:///{warehouse}")
    lock_path = duckdb_build_lock_path(warehouse)
    lock_path.touch()
    with open(lock_path) as looking:
        fcntl.flock(looking, fcntl.LOCK_SH)  # a look that lasts longer than any real one

        def stop_looking() -> None:
            time.sleep(0.05)
            fcntl.flock(looking, fcntl.LOCK_UN)

        threading.Thread(target=stop_looking).start()
        with build_lock(target):
            pass


def test_timezone_offsets_are_irrelevant_to_the_timestamp_text(warehouse: str) -> None:
    page = parse_page(MART, [("limit", "3"), ("seen_at[gte]", "2024-03-01T00:00:00+05:30")])
    conn = duckdb.connect(warehouse, read_only=True)
    statement, params = page_sql(page, "?", None, None, api_form="duckdb")
    rows = conn.execute(statement, params).fetchall()
    at = [row[2] for row in rows]
    assert all(text.endswith("Z") and len(text) == 27 for text in at)
    assert datetime.fromisoformat(at[0].replace("Z", "+00:00")) >= datetime(
        2024, 3, 1, tzinfo=timezone(timedelta(hours=5, minutes=30))
    )
