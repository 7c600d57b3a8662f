-- One row per TikTok ad per advertiser-local day: the report row ({dimensions, metrics})
-- typed and renamed. Metrics are strings with unstable decimals, sometimes "-" or null, and
-- sometimes JSON numbers: all parse to decimals, unparseable ones to null; an absent delivery
-- count (impressions, clicks, spend) means none that day (0).

with source as (

    select * from {{ source('raw_tiktok', 'ad_reports') }}

),

renamed as (

    select
        cast(ad_id as {{ dbt.type_string() }}) as ad_id,
        cast(stat_time_day as date) as report_date,
        cast(advertiser_id as {{ dbt.type_string() }}) as advertiser_id,
        {{ json_text('payload', ['metrics', 'campaign_id']) }} as campaign_id,
        {{ json_text('payload', ['metrics', 'campaign_name']) }} as campaign_name,
        {{ json_text('payload', ['metrics', 'adgroup_id']) }} as adgroup_id,
        {{ json_text('payload', ['metrics', 'adgroup_name']) }} as adgroup_name,
        {{ json_text('payload', ['metrics', 'ad_name']) }} as ad_name,
        upper(nullif(trim({{ json_text('payload', ['metrics', 'currency']) }}), '-')) as currency,
        coalesce({{ parse_decimal(json_text('payload', ['metrics', 'spend'])) }}, 0) as spend,
        coalesce({{ parse_count(json_text('payload', ['metrics', 'impressions'])) }}, 0) as impressions,
        coalesce({{ parse_count(json_text('payload', ['metrics', 'clicks'])) }}, 0) as clicks,
        {{ parse_count(json_text('payload', ['metrics', 'reach'])) }} as reach,
        {{ parse_count(json_text('payload', ['metrics', 'video_play_actions'])) }} as video_views,
        {{ parse_count(json_text('payload', ['metrics', 'conversion'])) }} as conversions,
        -- TikTok names the total value of complete-payment events `total_complete_payment_rate`.
        {{ parse_decimal(json_text('payload', ['metrics', 'total_complete_payment_rate'])) }} as conversion_value,
        _loaded_at as loaded_at
    from source

)

select * from renamed
