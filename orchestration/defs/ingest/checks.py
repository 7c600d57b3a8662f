"""Great Expectations suites on the raw tables, as asset checks.

The report and billing checks are blocking: a negative spend, a row outside the run's days,
an unknown currency or a fractional Stripe amount stops the dbt build of the same run, so no
mart is rebuilt from it. In a partitioned run a report check looks at the run's days and at
every row the run loaded (which must fall inside those days); otherwise at the whole table.
"""

from datetime import UTC, datetime
from functools import cache

import dagster as dg

from ingest._common.windows import DateWindow
from orchestration.defs.expectations import Expectation, run_suite
from orchestration.defs.ingest.assets import raw_key
from orchestration.defs.partitions import PARTITIONS_START, tagged_days
from orchestration.defs.resources import WarehouseResource


@cache
def known_currencies() -> tuple[str, ...]:
    """ISO 4217 codes (from the CLDR data Babel ships), upper case."""
    from babel.numbers import list_currencies

    return tuple(sorted(code.upper() for code in list_currencies()))


def not_null(column: str) -> Expectation:
    return Expectation("ExpectColumnValuesToNotBeNull", column, meaning=f"{column} is null")


def at_least_zero(column: str) -> Expectation:
    return Expectation(
        "ExpectColumnValuesToBeBetween",
        column,
        {"min_value": 0},
        meaning=f"{column} is negative",
    )


def known_currency(column: str) -> Expectation:
    return Expectation(
        "ExpectColumnValuesToBeInSet",
        column,
        {"value_set": list(known_currencies())},
        meaning=f"{column} is not an ISO 4217 currency",
    )


def inside_run_days(column: str) -> Expectation:
    return Expectation(
        "ExpectColumnValuesToBeInSet",
        column,
        {"value_set": [True]},
        meaning="row loaded by this run is dated outside the run's partitions",
    )


def whole_minor_units(column: str) -> Expectation:
    return Expectation(
        "ExpectColumnValuesToMatchRegex",
        column,
        {"regex": r"^\d+$"},
        meaning=f"{column} is not a whole, non-negative number of minor units",
    )


def check_scope(context: dg.AssetCheckExecutionContext) -> tuple[DateWindow, datetime]:
    """The run's partition days (every day so far when unpartitioned) and when it started."""
    days = tagged_days(context.run.tags) or DateWindow(PARTITIONS_START, datetime.now(UTC).date())
    record = context.instance.get_run_record_by_id(context.run.run_id)
    started = record.start_time if record is not None and record.start_time else None
    start = datetime.fromtimestamp(started, UTC) if started else datetime.now(UTC)
    return days, start


def report_scope_sql(
    table: str, day_column: str, days: DateWindow, run_started: datetime, select: str
) -> str:
    first, last = f"cast('{days.since}' as date)", f"cast('{days.until}' as date)"
    loaded = f"cast('{run_started:%Y-%m-%d %H:%M:%S}+00' as timestamp with time zone)"
    return f"""
        select
            {select},
            cast({day_column} as varchar(10)) as {day_column},
            {day_column} between {first} and {last} as inside_run_days
        from {table}
        where {day_column} between {first} and {last} or _loaded_at >= {loaded}
    """


@dg.asset_check(
    asset=raw_key("raw_meta", "ads_insights"),
    blocking=True,
    description="Ids set, spend >= 0, dates inside the run's partitions, known currency.",
)
def meta_insights_expectations(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    days, started = check_scope(context)
    sql = report_scope_sql(
        "raw_meta.ads_insights",
        "date_start",
        days,
        started,
        """ad_id,
            account_id,
            payload->>'campaign_id' as campaign_id,
            cast(payload->>'spend' as double precision) as spend,
            cast(payload->>'impressions' as double precision) as impressions,
            upper(payload->>'account_currency') as currency""",
    )
    return run_suite(
        warehouse,
        name="raw_meta.ads_insights",
        sql=sql,
        expectations=[
            not_null("ad_id"),
            not_null("account_id"),
            not_null("campaign_id"),
            at_least_zero("spend"),
            at_least_zero("impressions"),
            known_currency("currency"),
            inside_run_days("inside_run_days"),
        ],
        key_columns=["ad_id", "date_start"],
    )


@dg.asset_check(
    asset=raw_key("raw_tiktok", "ad_reports"),
    blocking=True,
    description="Ids set, spend >= 0, dates inside the run's partitions, known currency.",
)
def tiktok_reports_expectations(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    days, started = check_scope(context)
    sql = report_scope_sql(
        "raw_tiktok.ad_reports",
        "stat_time_day",
        days,
        started,
        """ad_id,
            advertiser_id,
            payload->'metrics'->>'campaign_id' as campaign_id,
            cast(payload->'metrics'->>'spend' as double precision) as spend,
            cast(payload->'metrics'->>'impressions' as double precision) as impressions,
            upper(payload->'metrics'->>'currency') as currency""",
    )
    return run_suite(
        warehouse,
        name="raw_tiktok.ad_reports",
        sql=sql,
        expectations=[
            not_null("ad_id"),
            not_null("advertiser_id"),
            not_null("campaign_id"),
            at_least_zero("spend"),
            at_least_zero("impressions"),
            known_currency("currency"),
            inside_run_days("inside_run_days"),
        ],
        key_columns=["ad_id", "stat_time_day"],
    )


@dg.asset_check(
    asset=raw_key("raw_meta", "ads"), description="Every ad version has an id and a status."
)
def meta_ads_expectations(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    return run_suite(
        warehouse,
        name="raw_meta.ads",
        sql="""select ad_id, effective_status, payload->>'campaign_id' as campaign_id,
                cast(updated_time as varchar) as updated_time
            from raw_meta.ads""",
        expectations=[not_null("ad_id"), not_null("effective_status"), not_null("campaign_id")],
        key_columns=["ad_id", "updated_time"],
    )


@dg.asset_check(
    asset=raw_key("raw_tiktok", "ads"), description="Every ad version has an id and a status."
)
def tiktok_ads_expectations(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    return run_suite(
        warehouse,
        name="raw_tiktok.ads",
        sql="""select ad_id, operation_status, payload->>'campaign_id' as campaign_id,
                cast(modify_time as varchar) as modify_time
            from raw_tiktok.ads""",
        expectations=[not_null("ad_id"), not_null("operation_status"), not_null("campaign_id")],
        key_columns=["ad_id", "modify_time"],
    )


@dg.asset_check(
    asset=raw_key("raw_tiktok", "video_snapshots"),
    description="Every snapshot has a video id and non-negative counters.",
)
def tiktok_videos_expectations(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    counters = ("view_count", "like_count", "comment_count", "share_count")
    casts = ",\n".join(f"cast(payload->>'{c}' as double precision) as {c}" for c in counters)
    return run_suite(
        warehouse,
        name="raw_tiktok.video_snapshots",
        sql=f"""select video_id, cast(fetched_at as varchar) as fetched_at, {casts}
            from raw_tiktok.video_snapshots""",
        expectations=[not_null("video_id"), *(at_least_zero(c) for c in counters)],
        key_columns=["video_id", "fetched_at"],
    )


def _stripe_amounts_check(
    table: str, amounts: tuple[str, ...], *, blocking: bool
) -> dg.AssetChecksDefinition:
    selects = ",\n".join(f"payload->>'{a}' as {a}" for a in amounts)

    @dg.asset_check(
        asset=raw_key("raw_stripe", table),
        name=f"stripe_{table}_expectations",
        blocking=blocking,
        description=f"Ids set, {', '.join(amounts)} whole minor units >= 0, known currency.",
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        return run_suite(
            warehouse,
            name=f"raw_stripe.{table}",
            sql=f"""select id, {selects}, upper(payload->>'currency') as currency
                from raw_stripe.{table}""",
            expectations=[
                not_null("id"),
                *(whole_minor_units(a) for a in amounts),
                known_currency("currency"),
            ],
            key_columns=["id"],
        )

    return _check


CHECKS = [
    meta_insights_expectations,
    tiktok_reports_expectations,
    meta_ads_expectations,
    tiktok_ads_expectations,
    tiktok_videos_expectations,
    _stripe_amounts_check("charges", ("amount", "amount_refunded"), blocking=True),
    _stripe_amounts_check("invoices", ("amount_due", "amount_paid"), blocking=True),
    _stripe_amounts_check("refunds", ("amount",), blocking=False),
]
