{#- One row per product × UTC date of fct_events: the event counts of rpt_product_daily
    (docs/METRICS.md, Unified).
    Incremental (delete+insert by date): a run recomputes, from all of their events, the days
    of the events of int_events_this_run. An event's product and occurred_at never change
    (event_id is the primary key of shared_events) and a re-identified event is re-written, so
    a day whose persons changed is among them. -#}

{{
    config(
        materialized='incremental',
        unique_key='activity_date',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

-- depends_on: {{ ref('int_events_this_run') }}

with

events as (

    select * from {{ ref('fct_events') }}
    {% if is_incremental() %}
    where occurred_date in (select occurred_date from {{ ref('int_events_this_run') }})
    {% endif %}

),

final as (

    select
        product,
        occurred_date as activity_date,
        cast(count(distinct person_id) as bigint) as active_persons,
        cast(count(*) as bigint) as events,
        cast(sum(case when event_name = 'signup_completed' then 1 else 0 end) as bigint) as signups,
        cast(sum(case when event_name = 'purchase_completed' then 1 else 0 end) as bigint) as purchases,
        {{ run_stamp() }} as built_at
    from events
    group by product, occurred_date

)

select * from final
