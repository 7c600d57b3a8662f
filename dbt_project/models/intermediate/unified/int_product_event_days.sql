{#- One row per product × UTC date of fct_events: the event counts of rpt_product_daily
    (SPEC §7.11).
    Incremental (delete+insert by product and date): a run recomputes, from all of their
    events, the product-days of the fct_events rows written since its own latest run (macro
    changed_events). An event's product and occurred_at never change (event_id is the primary
    key of shared_events) and a re-identified event is re-written, so a product-day whose
    persons changed is among them. -#}

{{
    config(
        materialized='incremental',
        unique_key=['product', 'activity_date'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

{% if is_incremental() %}

changed_days as (

    select distinct
        product,
        {{ utc_date('occurred_at') }} as activity_date
    from ({{ changed_events(built_after(this)) }}) as changed_events

),

events as (

    select fct_events.*
    from {{ ref('fct_events') }} as fct_events
    inner join changed_days
        on fct_events.product = changed_days.product
        and fct_events.occurred_date = changed_days.activity_date

),

{% else %}

events as (

    select * from {{ ref('fct_events') }}

),

{% endif %}

final as (

    select
        product,
        occurred_date as activity_date,
        count(distinct person_id) as active_persons,
        count(*) as events,
        sum(case when event_name = 'signup_completed' then 1 else 0 end) as signups,
        sum(case when event_name = 'purchase_completed' then 1 else 0 end) as purchases,
        {{ run_stamp() }} as built_at
    from events
    group by product, occurred_date

)

select * from final
