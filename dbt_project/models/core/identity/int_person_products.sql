{#- One row per person × product of fct_events: when the person was first seen in the product,
    which rpt_product_daily counts as that day's new persons (docs/METRICS.md, Unified).
    Incremental (delete+insert by person_id), from the persons of macro affected_persons_ctes:
    - a person who can have lost events (a re-identified anonymous event's past or present
      person, `regrouped_persons`) is recomputed from all their events; one left without events
      gets a row with a null product, which the post-hook deletes;
    - any other person of the changed events only gained events, so each product's first
      sighting is the earlier of the stored one and that of the changed events. That is
      idempotent (an event merged again by a partition run changes nothing), and reads the
      changed events instead of the whole history of every returning person. -#}

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

{{ affected_persons_ctes(built_after(this)) }},

recomputed as (

    select
        regrouped_persons.person_id,
        fct_events.product,
        min(fct_events.occurred_at) as first_seen_at
    from regrouped_persons
    left join {{ ref('fct_events') }} as fct_events
        on regrouped_persons.person_id = fct_events.person_id
    group by regrouped_persons.person_id, fct_events.product

),

gained as (

    select
        changed_events.person_id,
        changed_events.product,
        min(changed_events.occurred_at) as first_seen_at
    from changed_events
    left join regrouped_persons
        on changed_events.person_id = regrouped_persons.person_id
    where changed_events.person_id is not null
        and regrouped_persons.person_id is null
    group by changed_events.person_id, changed_events.product

),

gaining_persons_stored as (

    select stored.person_id, stored.product, stored.first_seen_at
    from {{ this }} as stored
    where stored.person_id in (select person_id from gained)

),

merged as (

    -- delete+insert replaces all of a person's rows: the products the changed events do not
    -- name are written back as stored.
    select
        coalesce(gained.person_id, stored.person_id) as person_id,
        coalesce(gained.product, stored.product) as product,
        least(gained.first_seen_at, stored.first_seen_at) as first_seen_at
    from gained
    full outer join gaining_persons_stored as stored
        on gained.person_id = stored.person_id
        and gained.product = stored.product

),

person_products as (

    select * from recomputed
    union all
    select * from merged

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
