with performance as (

    select * from {{ ref('int_ad_performance_unioned') }}

),

final as (

    select
        cast(platform as {{ dbt.type_string() }}) as platform,
        cast(ad_id as {{ dbt.type_string() }}) as ad_id,
        cast(report_date as date) as report_date,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(campaign_name as {{ dbt.type_string() }}) as campaign_name,
        cast(adset_id as {{ dbt.type_string() }}) as adset_id,
        cast(adset_name as {{ dbt.type_string() }}) as adset_name,
        cast(ad_name as {{ dbt.type_string() }}) as ad_name,
        cast(impressions as bigint) as impressions,
        cast(clicks as bigint) as clicks,
        cast(spend as numeric(38, 6)) as spend,
        cast(reach as bigint) as reach,
        cast(video_views as bigint) as video_views,
        cast(platform_conversions as numeric(38, 6)) as platform_conversions,
        cast(platform_conversion_value as numeric(38, 6)) as platform_conversion_value,
        cast(currency as {{ dbt.type_string() }}) as currency
    from performance

)

select * from final
