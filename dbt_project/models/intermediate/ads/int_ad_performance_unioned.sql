-- One row per platform per ad per platform-local day: Meta insights and TikTok reports in one
-- shape (docs/METRICS.md, Ads). Dates are the ad account's own day, as the platforms bucket them.

with meta_insights as (

    select * from {{ ref('stg_meta__ads_insights') }}

),

meta_purchases as (

    select * from {{ ref('int_meta_purchases_picked') }}

),

tiktok_reports as (

    select * from {{ ref('stg_tiktok__ad_reports') }}

),

meta as (

    select
        'meta' as platform,
        meta_insights.ad_id,
        meta_insights.report_date,
        meta_insights.account_id,
        meta_insights.campaign_id,
        meta_insights.campaign_name,
        meta_insights.adset_id,
        meta_insights.adset_name,
        meta_insights.ad_name,
        meta_insights.impressions,
        meta_insights.clicks,
        meta_insights.spend,
        meta_insights.reach,
        -- absent video_play_actions: no video plays that day
        cast(coalesce(meta_purchases.video_views, 0) as bigint) as video_views,
        coalesce(meta_purchases.purchases, 0) as platform_conversions,
        coalesce(meta_purchases.purchase_value, 0) as platform_conversion_value,
        meta_insights.currency
    from meta_insights
    left join meta_purchases
        on meta_insights.ad_id = meta_purchases.ad_id
        and meta_insights.report_date = meta_purchases.report_date

),

tiktok as (

    select
        'tiktok' as platform,
        ad_id,
        report_date,
        advertiser_id as account_id,
        campaign_id,
        campaign_name,
        adgroup_id as adset_id,
        adgroup_name as adset_name,
        ad_name,
        impressions,
        clicks,
        spend,
        reach,
        coalesce(video_views, 0) as video_views,
        coalesce(conversions, 0) as platform_conversions,
        coalesce(conversion_value, 0) as platform_conversion_value,
        currency
    from tiktok_reports

),

unioned as (

    select * from meta
    union all
    select * from tiktok

)

select * from unioned
