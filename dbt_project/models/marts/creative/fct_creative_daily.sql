-- One row per platform × ad × date with delivery or a `last_touch` conversion: the ad's
-- delivery metrics (docs/METRICS.md, Ads), its warehouse conversions and value (docs/METRICS.md, Creative performance), and the
-- asset and hook it carries. Conversion value counts only conversions in the ad account's
-- currency (there is no exchange-rate table); conversions in other currencies are counted
-- in `conversions` and their value reported apart.

with performance as (

    select * from {{ ref('fct_ad_performance_daily') }}

),

conversions as (

    select * from {{ ref('fct_ad_conversions_daily') }}

),

ads as (

    select * from {{ ref('dim_ads') }}

),

ad_days as (

    select platform, ad_id, report_date from performance
    union
    select platform, ad_id, conversion_date as report_date from conversions

),

day_conversions as (

    select
        ad_days.platform,
        ad_days.ad_id,
        ad_days.report_date,
        sum(conversions.conversions) as conversions,
        sum(
            case
                when conversions.currency = coalesce(performance.currency, ads.currency, conversions.currency)
                    then conversions.conversion_value
                else 0
            end
        ) as conversion_value,
        sum(
            case
                when conversions.currency = coalesce(performance.currency, ads.currency, conversions.currency)
                    then 0
                else conversions.conversion_value
            end
        ) as conversion_value_other_currencies
    from ad_days
    inner join conversions
        on ad_days.platform = conversions.platform
        and ad_days.ad_id = conversions.ad_id
        and ad_days.report_date = conversions.conversion_date
    left join performance
        on ad_days.platform = performance.platform
        and ad_days.ad_id = performance.ad_id
        and ad_days.report_date = performance.report_date
    left join ads
        on ad_days.platform = ads.platform
        and ad_days.ad_id = ads.ad_id
    group by ad_days.platform, ad_days.ad_id, ad_days.report_date

),

final as (

    select
        ad_days.report_date,
        ad_days.platform,
        ad_days.ad_id,
        ads.asset_id,
        ads.hook_id,
        coalesce(performance.account_id, ads.account_id) as account_id,
        coalesce(performance.campaign_id, ads.campaign_id) as campaign_id,
        coalesce(performance.ad_name, ads.ad_name) as ad_name,
        coalesce(performance.impressions, 0) as impressions,
        coalesce(performance.clicks, 0) as clicks,
        coalesce(performance.spend, 0) as spend,
        coalesce(performance.video_views, 0) as video_views,
        coalesce(performance.platform_conversions, 0) as platform_conversions,
        coalesce(performance.platform_conversion_value, 0) as platform_conversion_value,
        coalesce(performance.currency, ads.currency) as currency,
        coalesce(day_conversions.conversions, 0) as conversions,
        coalesce(day_conversions.conversion_value, 0) as conversion_value,
        coalesce(day_conversions.conversion_value_other_currencies, 0) as conversion_value_other_currencies
    from ad_days
    left join performance
        on ad_days.platform = performance.platform
        and ad_days.ad_id = performance.ad_id
        and ad_days.report_date = performance.report_date
    left join day_conversions
        on ad_days.platform = day_conversions.platform
        and ad_days.ad_id = day_conversions.ad_id
        and ad_days.report_date = day_conversions.report_date
    left join ads
        on ad_days.platform = ads.platform
        and ad_days.ad_id = ads.ad_id

)

select * from final
