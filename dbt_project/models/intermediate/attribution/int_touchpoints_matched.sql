{#- One row per conversion × touchpoint (docs/METRICS.md, Attribution): the same person's events with a channel
    at or before the conversion and at most var('attribution_lookback_days') before it (the
    boundary included), across products, numbered in time order with ties by event_id.
    A view: fct_attribution_credits reads it on a full refresh, and its incremental runs compute
    the same rows (macro attribution_touchpoints) for the conversions they recompute only. -#}

{{ config(materialized='view') }}

-- depends_on: {{ ref('fct_events') }}

with

conversions as (

    select * from {{ ref('int_conversions_valued') }}
    where person_id is not null

),

touchpoints as (

    {{ channel_events('true') }}

),

final as (

    {{ attribution_touchpoints('conversions', 'touchpoints') }}

)

select * from final
