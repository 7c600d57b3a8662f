with creative_daily as (

    select * from {{ ref('fct_creative_daily') }}

),

final as (

    select
        cast(report_date as date) as report_date,
        cast(platform as {{ dbt.type_string() }}) as platform,
        cast(ad_id as {{ dbt.type_string() }}) as ad_id,
        cast(asset_id as {{ dbt.type_string() }}) as asset_id,
        cast(hook_id as {{ dbt.type_string() }}) as hook_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(ad_name as {{ dbt.type_string() }}) as ad_name,
        cast(impressions as bigint) as impressions,
        cast(clicks as bigint) as clicks,
        cast(spend as numeric(38, 6)) as spend,
        cast(video_views as bigint) as video_views,
        cast(platform_conversions as numeric(38, 6)) as platform_conversions,
        cast(platform_conversion_value as numeric(38, 6)) as platform_conversion_value,
        cast(conversions as numeric(38, 6)) as conversions,
        cast(conversion_value as numeric(38, 6)) as conversion_value,
        cast(conversion_value_other_currencies as numeric(38, 6)) as conversion_value_other_currencies,
        cast(currency as {{ dbt.type_string() }}) as currency,
        cast({{ safe_divide('clicks', 'impressions') }} as double precision) as ctr,
        cast({{ safe_divide('spend', 'clicks') }} as double precision) as cpc,
        cast({{ safe_divide('1000 * spend', 'impressions') }} as double precision) as cpm,
        cast({{ safe_divide('spend', 'conversions') }} as double precision) as cpa,
        cast({{ safe_divide('conversion_value', 'spend') }} as double precision) as roas
    from creative_daily

)

select * from final
