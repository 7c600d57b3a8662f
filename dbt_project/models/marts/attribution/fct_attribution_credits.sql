{#- One row per conversion × attribution model × touchpoint (docs/METRICS.md, Attribution); a conversion without
    touchpoints has one `direct` row per model. Every touchpoint has a row in every model
    (credit 0 where the model gives it none). attributed_value is rounded to 6 decimals with
    the last touchpoint taking the remainder, so it sums exactly to conversion_value.
    Incremental (delete+insert by conversion_event_id): a run recomputes, from all of
    fct_events, the conversions of int_conversions_this_run, the only ones whose credits can
    have changed, giving the rows of a full refresh (DECISIONLOG.md, "Downstream
    incrementality"). -#}

{{
    config(
        materialized='incremental',
        unique_key='conversion_event_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        meta={'rebuild_on_vars': ['attribution_lookback_days', 'attribution_half_life_days']},
        indexes=postgres_indexes([
            {'columns': ['conversion_event_id']},
            {'columns': ['touchpoint_event_id']},
            {'columns': ['built_at']},
            {'columns': ['conversion_date']},
        ]),
    )
}}

-- depends_on: {{ ref('fct_events') }}, {{ ref('int_conversions_this_run') }}

{% set models = ['first_touch', 'last_touch', 'linear', 'position_based', 'time_decay'] %}

with

{% if is_incremental() %}

conversions as materialized (

    select *
    from {{ ref('int_conversions_valued') }}
    where conversion_event_id in (select conversion_event_id from {{ ref('int_conversions_this_run') }})

),

touchpoint_events as (

    {{ channel_events('person_id in (select person_id from conversions)') }}

),

touchpoint_conversions as (

    select * from conversions
    where person_id is not null

),

touchpoints as (

    {{ attribution_touchpoints('touchpoint_conversions', 'touchpoint_events') }}

),

{% else %}

conversions as (

    select * from {{ ref('int_conversions_valued') }}

),

touchpoints as (

    select * from {{ ref('int_touchpoints_matched') }}

),

{% endif %}

attribution_models as (

    {% for model in models -%}
    select '{{ model }}' as model
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

decay_totals as (

    select
        conversion_event_id,
        sum(decay_weight) as decay_weight_total
    from touchpoints
    group by conversion_event_id

),

touchpoint_credits as (

    select
        touchpoints.conversion_event_id,
        attribution_models.model,
        touchpoints.touchpoint_event_id,
        touchpoints.touchpoint_at,
        touchpoints.touchpoint_product,
        touchpoints.touchpoint_position,
        touchpoints.touchpoints,
        touchpoints.channel,
        touchpoints.campaign_id,
        touchpoints.ad_id,
        cast(
            case attribution_models.model
                when 'first_touch' then case when touchpoints.touchpoint_position = 1 then 1 else 0 end
                when 'last_touch' then case when touchpoints.touchpoint_position = touchpoints.touchpoints then 1 else 0 end
                when 'linear' then 1.0 / cast(touchpoints.touchpoints as double precision)
                when 'position_based' then
                    case
                        when touchpoints.touchpoints = 1 then 1
                        when touchpoints.touchpoints = 2 then 0.5
                        when touchpoints.touchpoint_position in (1, touchpoints.touchpoints) then 0.4
                        else 0.2 / cast(touchpoints.touchpoints - 2 as double precision)
                    end
                when 'time_decay' then touchpoints.decay_weight / decay_totals.decay_weight_total
            end
            as double precision
        ) as credit
    from touchpoints
    cross join attribution_models
    inner join decay_totals
        on touchpoints.conversion_event_id = decay_totals.conversion_event_id

),

direct_credits as (

    select
        conversions.conversion_event_id,
        attribution_models.model,
        cast(null as text) as touchpoint_event_id,
        cast(null as timestamp with time zone) as touchpoint_at,
        cast(null as text) as touchpoint_product,
        cast(null as bigint) as touchpoint_position,
        cast(0 as bigint) as touchpoints,
        'direct' as channel,
        cast(null as text) as campaign_id,
        cast(null as text) as ad_id,
        cast(1 as double precision) as credit
    from conversions
    cross join attribution_models
    -- decay_totals has one row per conversion with touchpoints: a small anti-join, where
    -- PostgreSQL over-estimated the touchpoints a thousandfold and split their hash into batches.
    left join decay_totals
        on conversions.conversion_event_id = decay_totals.conversion_event_id
    where decay_totals.conversion_event_id is null

),

credits as (

    select * from touchpoint_credits
    union all
    select * from direct_credits

),

valued as (

    select
        credits.*,
        conversions.conversion_name,
        conversions.conversion_at,
        conversions.conversion_product,
        conversions.person_id,
        conversions.conversion_received_at,
        conversions.conversion_value,
        conversions.currency,
        round(cast(conversions.conversion_value * credits.credit as decimal(38, 12)), 6) as rounded_value,
        coalesce(credits.touchpoint_position, 1) = greatest(credits.touchpoints, 1) as is_last
    from credits
    inner join conversions
        on credits.conversion_event_id = conversions.conversion_event_id

),

final as (

    select
        conversion_event_id,
        conversion_name,
        conversion_at,
        {{ utc_date('conversion_at') }} as conversion_date,
        conversion_product,
        person_id,
        conversion_received_at,
        model,
        touchpoint_event_id,
        touchpoint_at,
        touchpoint_product,
        touchpoint_position,
        touchpoints,
        channel,
        campaign_id,
        ad_id,
        credit,
        conversion_value,
        cast(
            case
                when is_last then conversion_value - coalesce(
                    sum(case when not is_last then rounded_value end)
                        over (partition by conversion_event_id, model),
                    0
                )
                else rounded_value
            end
            as decimal(38, 6)
        ) as attributed_value,
        currency,
        {{ run_stamp() }} as built_at
    from valued

)

select * from final
