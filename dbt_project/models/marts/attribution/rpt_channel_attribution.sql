{#- One row per conversion date × attribution model × channel × campaign × currency (docs/METRICS.md, Attribution),
    with the ad spend of the campaign on that date (docs/METRICS.md, Ads) and ROAS.

    The credits come summed per date from fct_channel_credits_daily (incremental). Spend comes
    from fct_ad_performance_daily: platform = channel, campaign_id, report_date =
    conversion_date and currency. A campaign's spend on a date without any credited conversion
    in that currency still has a row, in every model, with 0 conversions and 0 value, so that
    no spend is lost and ROAS over a period is honest. -#}

{% set models = ['first_touch', 'last_touch', 'linear', 'position_based', 'time_decay'] %}

with

credited_days as (

    select * from {{ ref('fct_channel_credits_daily') }}

),

ad_performance as (

    select * from {{ ref('fct_ad_performance_daily') }}

),

attribution_models as (

    {% for model in models -%}
    select cast('{{ model }}' as {{ dbt.type_string() }}) as model
    {% if not loop.last %}union all
    {% endif %}
    {%- endfor %}

),

credited as (

    select
        conversion_date,
        model,
        channel,
        campaign_id,
        currency,
        conversions,
        attributed_value,
        touched_conversions,
        cast(null as decimal(38, 6)) as spend
    from credited_days

),

campaign_spend as (

    select
        report_date,
        platform,
        campaign_id,
        currency,
        sum(spend) as spend
    from ad_performance
    group by
        report_date,
        platform,
        campaign_id,
        currency

),

-- the campaign's spend once per attribution model, with nothing credited
spent as (

    select
        campaign_spend.report_date as conversion_date,
        attribution_models.model,
        campaign_spend.platform as channel,
        campaign_spend.campaign_id,
        campaign_spend.currency,
        cast(0 as double precision) as conversions,
        cast(0 as decimal(38, 6)) as attributed_value,
        cast(0 as bigint) as touched_conversions,
        campaign_spend.spend
    from campaign_spend
    cross join attribution_models

),

-- a union then a group by (rather than a full outer join): null campaign ids and currencies
-- group together on both backends
unioned as (

    select * from credited
    union all
    select * from spent

),

combined as (

    select
        conversion_date,
        model,
        channel,
        campaign_id,
        currency,
        sum(conversions) as conversions,
        sum(attributed_value) as attributed_value,
        sum(touched_conversions) as touched_conversions,
        sum(spend) as spend
    from unioned
    group by
        conversion_date,
        model,
        channel,
        campaign_id,
        currency

),

final as (

    select
        cast(conversion_date as date) as conversion_date,
        cast(model as {{ dbt.type_string() }}) as model,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(currency as {{ dbt.type_string() }}) as currency,
        cast(conversions as double precision) as conversions,
        cast(attributed_value as decimal(38, 6)) as attributed_value,
        cast(touched_conversions as bigint) as touched_conversions,
        cast(spend as decimal(38, 6)) as spend,
        {{ safe_divide('attributed_value', 'spend') }} as roas
    from combined

)

select * from final
