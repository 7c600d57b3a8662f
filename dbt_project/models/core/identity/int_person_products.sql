{#- One row per person × product of fct_events: when the person was first seen in the product,
    which rpt_product_daily counts as that day's new persons (docs/METRICS.md, Unified).
    Incremental (delete+insert by person_id), for the persons of int_persons_this_run, the only
    ones whose events can have changed: a `regrouped` one, who can have lost events, is
    recomputed from all their events (the post-hook deletes the rows of one left without
    events); any other only gained events, so each product's first sighting is the earlier of
    the stored one and that of their changed events (an event merged again changes nothing).
    Recomputing every person of a new day read the whole history of the returning ones. -#}

{{
    config(
        materialized='incremental',
        unique_key='person_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ delete_rows_not_rebuilt('person_id', ref('int_persons_this_run')) }}",
    )
}}

-- depends_on: {{ ref('int_persons_this_run') }}, {{ ref('int_events_this_run') }}

with

person_products as (

    select
        person_id,
        product,
        min(first_seen_at) as first_seen_at
    from (
        select person_id, product, occurred_at as first_seen_at
        from {{ ref('fct_events') }}
        where person_id is not null
        {%- if is_incremental() %}
            and person_id in (
                select person_id from {{ ref('int_persons_this_run') }}
                where regrouped
            )

        union all

        -- The others only gained events: their changed events, and their stored rows, which
        -- delete+insert replaces (the regrouped persons' changed events are read above too).
        select person_id, product, occurred_at as first_seen_at
        from {{ ref('int_events_this_run') }}
        where person_id is not null
        union all
        select person_id, product, first_seen_at
        from {{ this }}
        where person_id in (
            select person_id from {{ ref('int_persons_this_run') }}
            where not regrouped
        )
        {%- endif %}
    ) as sightings
    group by person_id, product

),

final as (

    select
        person_id,
        product,
        first_seen_at,
        {{ run_stamp() }} as built_at
    from person_products

)

select * from final
