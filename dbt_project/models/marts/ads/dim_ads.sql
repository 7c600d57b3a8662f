with versions as (

    select * from {{ ref('int_ad_versions_unioned') }}

),

performance as (

    select * from {{ ref('int_ad_performance_unioned') }}

),

published as (

    select * from {{ ref('int_ads_published') }}

),

latest_version as (

    select * from versions
    where recency_rank = 1

),

first_version as (

    select
        platform,
        ad_id,
        min(observed_at) as first_observed_at,
        min(created_at) as created_at
    from versions
    group by platform, ad_id

),

performance_ranked as (

    select
        *,
        row_number() over (
            partition by platform, ad_id
            order by report_date desc
        ) as recency_rank
    from performance

),

latest_performance as (

    select * from performance_ranked
    where recency_rank = 1

),

delivery as (

    select
        platform,
        ad_id,
        min(report_date) as first_report_date,
        max(report_date) as last_report_date
    from performance
    group by platform, ad_id

),

ads as (

    select platform, ad_id from versions
    union
    select platform, ad_id from performance
    union
    select platform, ad_id from published

),

final as (

    select
        cast(ads.platform as {{ dbt.type_string() }}) as platform,
        cast(ads.ad_id as {{ dbt.type_string() }}) as ad_id,
        cast(coalesce(latest_version.account_id, latest_performance.account_id) as {{ dbt.type_string() }}) as account_id,
        cast(coalesce(latest_version.campaign_id, latest_performance.campaign_id, published.campaign_id) as {{ dbt.type_string() }}) as campaign_id,
        cast(latest_performance.campaign_name as {{ dbt.type_string() }}) as campaign_name,
        cast(coalesce(latest_version.adset_id, latest_performance.adset_id) as {{ dbt.type_string() }}) as adset_id,
        cast(latest_performance.adset_name as {{ dbt.type_string() }}) as adset_name,
        cast(coalesce(latest_version.ad_name, latest_performance.ad_name) as {{ dbt.type_string() }}) as ad_name,
        cast(latest_version.status as {{ dbt.type_string() }}) as status,
        cast(latest_version.observed_at as timestamp with time zone) as status_observed_at,
        cast(latest_version.creative_id as {{ dbt.type_string() }}) as creative_id,
        cast(first_version.created_at as timestamp with time zone) as created_at,
        cast(delivery.first_report_date as date) as first_report_date,
        cast(delivery.last_report_date as date) as last_report_date,
        cast(latest_performance.currency as {{ dbt.type_string() }}) as currency,
        cast(published.asset_id as {{ dbt.type_string() }}) as asset_id,
        cast(published.hook_id as {{ dbt.type_string() }}) as hook_id,
        cast(published.published_by_product as {{ dbt.type_string() }}) as published_by_product,
        cast(published.published_at as timestamp with time zone) as published_at
    from ads
    left join latest_version
        on ads.platform = latest_version.platform
        and ads.ad_id = latest_version.ad_id
    left join first_version
        on ads.platform = first_version.platform
        and ads.ad_id = first_version.ad_id
    left join latest_performance
        on ads.platform = latest_performance.platform
        and ads.ad_id = latest_performance.ad_id
    left join delivery
        on ads.platform = delivery.platform
        and ads.ad_id = delivery.ad_id
    left join published
        on ads.platform = published.platform
        and ads.ad_id = published.ad_id

)

select * from final
