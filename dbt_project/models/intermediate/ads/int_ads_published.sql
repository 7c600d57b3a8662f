-- One row per platform per ad announced by an `ad_published` event: which product published
-- it and the asset and hook it carries (docs/REFERENCE.md, Standard events). When an ad is published twice, the latest
-- event wins, field by field falling back to earlier events.

with events as (

    select * from {{ ref('fct_events') }}

),

published as (

    select
        event_id,
        product,
        occurred_at,
        lower({{ json_text('properties', ['platform']) }}) as platform,
        {{ json_text('properties', ['platform_ad_id']) }} as ad_id,
        nullif({{ json_text('properties', ['hook_id']) }}, '') as hook_id,
        nullif({{ json_text('properties', ['asset_id']) }}, '') as asset_id,
        nullif({{ json_text('properties', ['campaign_id']) }}, '') as campaign_id
    from events
    where event_name = 'ad_published'

),

ranked as (

    select
        *,
        row_number() over (
            partition by platform, ad_id
            order by occurred_at desc, event_id desc
        ) as recency_rank
    from published
    where ad_id is not null
        and platform in ('meta', 'tiktok')

),

final as (

    select
        latest.platform,
        latest.ad_id,
        latest.product as published_by_product,
        latest.occurred_at as published_at,
        coalesce(latest.hook_id, max(earlier.hook_id)) as hook_id,
        coalesce(latest.asset_id, max(earlier.asset_id)) as asset_id,
        coalesce(latest.campaign_id, max(earlier.campaign_id)) as campaign_id
    from ranked as latest
    left join ranked as earlier
        on latest.platform = earlier.platform
        and latest.ad_id = earlier.ad_id
        and earlier.recency_rank > 1
    where latest.recency_rank = 1
    group by
        latest.platform,
        latest.ad_id,
        latest.product,
        latest.occurred_at,
        latest.hook_id,
        latest.asset_id,
        latest.campaign_id

)

select * from final
