{#- One row per person × product of fct_events: when the person was first seen in the product,
    which rpt_product_daily counts as that day's new persons (docs/METRICS.md, Unified).
    Incremental (delete+insert by person_id), for the persons of int_persons_this_run, the only
    ones whose events can have changed: a `regrouped` one, who can have lost events, is
    recomputed from all their events (one left without events gets a row with a null product,
    which the post-hook deletes); any other only gained events, so each product's first
    sighting is the earlier of the stored one and that of their changed events (an event
    merged again changes nothing). -#}

{{
    config(
        materialized='incremental',
        unique_key='person_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where product is null",
    )
}}

-- depends_on: {{ ref('int_persons_this_run') }}, {{ ref('int_events_this_run') }}

with

person_products as (

    select
        person_id,
        product,
        min(occurred_at) as first_seen_at
    from {{ ref('fct_events') }}
    {% if is_incremental() -%}
    where person_id in (
        select person_id from {{ ref('int_persons_this_run') }}
        where regrouped
    )
    {%- else -%}
    where person_id is not null
    {%- endif %}
    group by person_id, product

    {% if is_incremental() -%}
    union all

    -- delete+insert replaces all of a person's rows: the stored products are written back.
    select
        person_id,
        product,
        min(first_seen_at) as first_seen_at
    from (
        select person_id, product, occurred_at as first_seen_at
        from {{ ref('int_events_this_run') }}
        union all
        select person_id, product, first_seen_at
        from {{ this }}
    ) as gained
    where person_id in (
        select person_id from {{ ref('int_persons_this_run') }}
        where not regrouped
    )
    group by person_id, product
    {%- endif %}

),

final as (

    select
        person_id,
        product,
        first_seen_at,
        {{ run_stamp() }} as built_at
    from person_products

    {% if is_incremental() -%}
    union all

    -- A regrouped person left without events: a row the post-hook deletes.
    select
        recomputed.person_id,
        cast(null as {{ dbt.type_string() }}) as product,
        cast(null as timestamp with time zone) as first_seen_at,
        {{ run_stamp() }} as built_at
    from {{ ref('int_persons_this_run') }} as recomputed
    where recomputed.regrouped
        and not exists (
            select 1 from person_products
            where person_products.person_id = recomputed.person_id
        )
    {%- endif %}

)

select * from final
