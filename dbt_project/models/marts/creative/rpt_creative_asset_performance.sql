with creative_daily as (

    select * from {{ ref('fct_creative_daily') }}
    where asset_id is not null

),

by_asset as (

    select
        asset_id,
        report_date,
        currency,
        count(distinct platform) as platforms,
        count(distinct {{ dbt.concat(['platform', "':'", 'ad_id']) }}) as ads,
        count(distinct hook_id) as hooks,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(spend) as spend,
        sum(video_views) as video_views,
        sum(platform_conversions) as platform_conversions,
        sum(platform_conversion_value) as platform_conversion_value,
        sum(conversions) as conversions,
        sum(conversion_value) as conversion_value
    from creative_daily
    group by asset_id, report_date, currency

),

final as (

    select
        cast(asset_id as {{ dbt.type_string() }}) as asset_id,
        cast(report_date as date) as report_date,
        cast(currency as {{ dbt.type_string() }}) as currency,
        cast(platforms as bigint) as platforms,
        cast(ads as bigint) as ads,
        cast(hooks as bigint) as hooks,
        cast(impressions as bigint) as impressions,
        cast(clicks as bigint) as clicks,
        cast(spend as numeric(38, 6)) as spend,
        cast(video_views as bigint) as video_views,
        cast(platform_conversions as numeric(38, 6)) as platform_conversions,
        cast(platform_conversion_value as numeric(38, 6)) as platform_conversion_value,
        cast(conversions as numeric(38, 6)) as conversions,
        cast(conversion_value as numeric(38, 6)) as conversion_value,
        cast({{ safe_divide('clicks', 'impressions') }} as double precision) as ctr,
        cast({{ safe_divide('spend', 'clicks') }} as double precision) as cpc,
        cast({{ safe_divide('1000 * spend', 'impressions') }} as double precision) as cpm,
        cast({{ safe_divide('spend', 'conversions') }} as double precision) as cpa,
        cast({{ safe_divide('conversion_value', 'spend') }} as double precision) as roas
    from by_asset

)

select * from final
