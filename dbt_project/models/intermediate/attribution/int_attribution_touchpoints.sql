{#- One row per conversion × touchpoint (SPEC §7.4): the same person's events with a channel
    at or before the conversion and at most var('attribution_lookback_days') before it (the
    boundary included), across products, numbered in time order with ties by event_id. -#}

with

conversions as (

    select * from {{ ref('int_conversions_valued') }}
    where person_id is not null

),

touchpoints as (

    select
        event_id,
        person_id,
        occurred_at,
        product,
        channel,
        campaign_id,
        ad_id
    from {{ ref('fct_events') }}
    where channel is not null
        and person_id is not null

),

joined as (

    select
        conversions.conversion_event_id,
        conversions.conversion_at,
        touchpoints.event_id as touchpoint_event_id,
        touchpoints.occurred_at as touchpoint_at,
        touchpoints.product as touchpoint_product,
        touchpoints.channel,
        touchpoints.campaign_id,
        touchpoints.ad_id,
        cast({{ seconds_between('touchpoints.occurred_at', 'conversions.conversion_at') }} as double precision)
            as seconds_before_conversion
    from conversions
    inner join touchpoints
        on conversions.person_id = touchpoints.person_id
        and touchpoints.occurred_at <= conversions.conversion_at
        and touchpoints.occurred_at >= {{ dbt.dateadd('hour', -24 * var('attribution_lookback_days'), 'conversions.conversion_at') }}

),

final as (

    select
        conversion_event_id,
        touchpoint_event_id,
        touchpoint_at,
        touchpoint_product,
        channel,
        campaign_id,
        ad_id,
        seconds_before_conversion,
        row_number() over (
            partition by conversion_event_id
            order by touchpoint_at, touchpoint_event_id
        ) as touchpoint_position,
        count(*) over (partition by conversion_event_id) as touchpoints,
        power(
            cast(2 as double precision),
            -1 * seconds_before_conversion / (86400.0 * {{ var('attribution_half_life_days') }})
        ) as decay_weight
    from joined

)

select * from final
