-- docs/METRICS.md, Ads: each day's ad spend in fct_ad_performance_daily equals the raw spend the
-- platforms reported for that day (per platform and currency, to 1e-6).

with raw_meta as (

    select
        'meta' as platform,
        cast(date_start as date) as report_date,
        upper({{ json_text('payload', ['account_currency']) }}) as currency,
        sum(coalesce({{ parse_decimal(json_text('payload', ['spend'])) }}, 0)) as raw_spend
    from {{ source('raw_meta', 'ads_insights') }}
    group by cast(date_start as date), upper({{ json_text('payload', ['account_currency']) }})

),

raw_tiktok as (

    select
        'tiktok' as platform,
        cast(stat_time_day as date) as report_date,
        upper(nullif(trim({{ json_text('payload', ['metrics', 'currency']) }}), '-')) as currency,
        sum(coalesce({{ parse_decimal(json_text('payload', ['metrics', 'spend'])) }}, 0)) as raw_spend
    from {{ source('raw_tiktok', 'ad_reports') }}
    group by cast(stat_time_day as date), upper(nullif(trim({{ json_text('payload', ['metrics', 'currency']) }}), '-'))

),

raw_spend as (

    select * from raw_meta
    union all
    select * from raw_tiktok

),

mart_spend as (

    select
        platform,
        report_date,
        currency,
        sum(spend) as mart_spend
    from {{ ref('fct_ad_performance_daily') }}
    group by platform, report_date, currency

)

select
    coalesce(raw_spend.platform, mart_spend.platform) as platform,
    coalesce(raw_spend.report_date, mart_spend.report_date) as report_date,
    raw_spend.raw_spend,
    mart_spend.mart_spend
from raw_spend
full outer join mart_spend
    on raw_spend.platform = mart_spend.platform
    and raw_spend.report_date = mart_spend.report_date
    and coalesce(raw_spend.currency, '') = coalesce(mart_spend.currency, '')
where abs(coalesce(raw_spend.raw_spend, 0) - coalesce(mart_spend.mart_spend, 0)) > 0.000001
