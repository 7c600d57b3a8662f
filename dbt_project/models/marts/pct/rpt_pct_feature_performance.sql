with hook_performance as (

    select * from {{ ref('rpt_pct_hook_performance') }}

),

features as (

    select
        'awareness_level' as feature,
        cast(hook_performance.awareness_level as {{ dbt.type_string() }}) as feature_value,
        hook_performance.*
    from hook_performance
    where hook_performance.awareness_level is not null

    union all

    select
        'angle' as feature,
        hook_performance.angle as feature_value,
        hook_performance.*
    from hook_performance
    where hook_performance.angle is not null

    union all

    select
        'template' as feature,
        hook_performance.template as feature_value,
        hook_performance.*
    from hook_performance
    where hook_performance.template is not null

),

by_feature as (

    select
        platform,
        feature,
        feature_value,
        count(*) as hooks,
        sum(case when status in ('winner', 'loser') then 1 else 0 end) as decided_hooks,
        sum(case when status = 'winner' then 1 else 0 end) as winners,
        sum(case when status = 'loser' then 1 else 0 end) as losers,
        sum(ads) as ads,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(spend) as spend,
        sum(conversions) as conversions,
        sum(conversion_value) as conversion_value,
        max(baseline_ctr) as baseline_ctr
    from features
    group by platform, feature, feature_value

),

final as (

    select
        cast(platform as {{ dbt.type_string() }}) as platform,
        cast(feature as {{ dbt.type_string() }}) as feature,
        cast(feature_value as {{ dbt.type_string() }}) as feature_value,
        cast(hooks as bigint) as hooks,
        cast(decided_hooks as bigint) as decided_hooks,
        cast(winners as bigint) as winners,
        cast(losers as bigint) as losers,
        cast({{ safe_divide('winners', 'decided_hooks') }} as double precision) as winner_share,
        cast(ads as bigint) as ads,
        cast(impressions as bigint) as impressions,
        cast(clicks as bigint) as clicks,
        cast(spend as numeric(38, 6)) as spend,
        cast(conversions as numeric(38, 6)) as conversions,
        cast(conversion_value as numeric(38, 6)) as conversion_value,
        cast({{ safe_divide('clicks', 'impressions') }} as double precision) as ctr,
        cast({{ wilson_lower('clicks', 'impressions') }} as double precision) as ctr_lower,
        cast({{ wilson_upper('clicks', 'impressions') }} as double precision) as ctr_upper,
        cast(baseline_ctr as double precision) as baseline_ctr,
        cast({{ safe_divide('conversions', 'clicks') }} as double precision) as conversions_per_click
    from by_feature

)

select * from final
