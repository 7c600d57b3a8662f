with creative as (

    select * from {{ ref('rpt_creative_performance') }}
    where hook_id is not null

),

hooks as (

    select * from {{ ref('int_hooks_generated') }}

),

by_hook as (

    select
        hook_id,
        platform,
        count(distinct ad_id) as ads,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(spend) as spend,
        min(currency) as currency,
        sum(conversions) as conversions,
        sum(conversion_value) as conversion_value
    from creative
    group by hook_id, platform

),

with_interval as (

    select
        *,
        {{ safe_divide('clicks', 'impressions') }} as ctr,
        {{ wilson_lower('clicks', 'impressions') }} as ctr_lower,
        {{ wilson_upper('clicks', 'impressions') }} as ctr_upper,
        {{ safe_divide('sum(clicks) over (partition by platform)', 'sum(impressions) over (partition by platform)') }} as baseline_ctr
    from by_hook

),

classified as (

    select
        *,
        case
            when impressions < {{ var('pct_min_impressions') }} then 'testing'
            when ctr_lower > baseline_ctr then 'winner'
            when ctr_upper < baseline_ctr then 'loser'
            else 'testing'
        end as status,
        rank() over (
            partition by platform
            order by ctr_lower desc nulls last
        ) as ctr_lower_rank
    from with_interval

),

final as (

    select
        cast(classified.hook_id as {{ dbt.type_string() }}) as hook_id,
        cast(classified.platform as {{ dbt.type_string() }}) as platform,
        cast(hooks.hook_text as {{ dbt.type_string() }}) as hook_text,
        cast(hooks.awareness_level as bigint) as awareness_level,
        cast(hooks.angle as {{ dbt.type_string() }}) as angle,
        cast(hooks.template as {{ dbt.type_string() }}) as template,
        cast(classified.ads as bigint) as ads,
        cast(classified.impressions as bigint) as impressions,
        cast(classified.clicks as bigint) as clicks,
        cast(classified.spend as numeric(38, 6)) as spend,
        cast(classified.currency as {{ dbt.type_string() }}) as currency,
        cast(classified.conversions as numeric(38, 6)) as conversions,
        cast(classified.conversion_value as numeric(38, 6)) as conversion_value,
        cast(classified.ctr as double precision) as ctr,
        cast(classified.ctr_lower as double precision) as ctr_lower,
        cast(classified.ctr_upper as double precision) as ctr_upper,
        cast(classified.baseline_ctr as double precision) as baseline_ctr,
        cast(classified.status as {{ dbt.type_string() }}) as status,
        cast(classified.ctr_lower_rank as bigint) as rank
    from classified
    left join hooks
        on classified.hook_id = hooks.hook_id

)

select * from final
