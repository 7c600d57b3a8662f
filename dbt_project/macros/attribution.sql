{% macro attribution_touchpoints(conversions, touchpoint_events) -%}
    {#- One row per conversion × touchpoint (docs/METRICS.md, Attribution) for the conversions of the relation or CTE
        `conversions` (conversion_event_id, conversion_at, person_id; person_id not null) over
        the events of `touchpoint_events` (event_id, person_id, occurred_at, product, channel,
        campaign_id, ad_id; channel and person_id not null). Used by int_touchpoints_matched
        for every conversion and by fct_attribution_credits's incremental runs for the
        conversions they recompute, so both compute touchpoints the same way. -#}
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
    from (
        select
            tp_conversions.conversion_event_id,
            tp_conversions.conversion_at,
            tp_events.event_id as touchpoint_event_id,
            tp_events.occurred_at as touchpoint_at,
            tp_events.product as touchpoint_product,
            tp_events.channel,
            tp_events.campaign_id,
            tp_events.ad_id,
            cast({{ seconds_between('tp_events.occurred_at', 'tp_conversions.conversion_at') }} as double precision)
                as seconds_before_conversion
        from {{ conversions }} as tp_conversions
        inner join {{ touchpoint_events }} as tp_events
            on tp_conversions.person_id = tp_events.person_id
            and tp_events.occurred_at <= tp_conversions.conversion_at
            and tp_events.occurred_at >= {{ dbt.dateadd('hour', -24 * var('attribution_lookback_days'), 'tp_conversions.conversion_at') }}
    ) as tp_joined
{%- endmacro %}


{% macro channel_events(persons_condition) -%}
    {#- The fct_events rows that can be touchpoints (a channel and a person), with the columns
        attribution_touchpoints reads, for the persons `persons_condition` admits (a SQL
        condition on person_id). -#}
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
        and {{ persons_condition }}
{%- endmacro %}
