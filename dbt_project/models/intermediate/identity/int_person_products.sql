{#- One row per person × product of fct_events: when the person was first seen in the product,
    which rpt_product_daily counts as that day's new persons (SPEC §7.11).
    Incremental (delete+insert by person_id) like int_person_event_stats: a run recomputes, from
    all of a person's events, only the persons whose events can have changed since its own
    latest run (macro affected_persons_ctes). A recomputed person left without events gets a
    row with a null product, which the post-hook deletes, so the table holds the rows of a full
    refresh. -#}

{{
    config(
        materialized='incremental',
        unique_key='person_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where product is null",
    )
}}

-- depends_on: {{ ref('stg_shared__events') }}

with

{% if is_incremental() %}

{{ affected_persons_ctes() }},

person_products as (

    select
        affected_persons.person_id,
        fct_events.product,
        min(fct_events.occurred_at) as first_seen_at
    from affected_persons
    left join {{ ref('fct_events') }} as fct_events
        on affected_persons.person_id = fct_events.person_id
    group by affected_persons.person_id, fct_events.product

),

{% else %}

person_products as (

    select
        person_id,
        product,
        min(occurred_at) as first_seen_at
    from {{ ref('fct_events') }}
    where person_id is not null
    group by person_id, product

),

{% endif %}

final as (

    select
        person_id,
        product,
        first_seen_at,
        {{ run_stamp() }} as built_at
    from person_products

)

select * from final
