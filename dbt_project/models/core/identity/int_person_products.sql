{#- One row per person × product of fct_events: when the person was first seen in the product,
    which rpt_product_daily counts as that day's new persons (docs/METRICS.md, Unified).
    Incremental (delete+insert by person_id): a run recomputes, from all their events, the
    persons of int_persons_this_run, the only ones whose events can have changed; one left
    without events gets a row with a null product, which the post-hook deletes. -#}

{{
    config(
        materialized='incremental',
        unique_key='person_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where product is null",
    )
}}

-- depends_on: {{ ref('int_persons_this_run') }}

with

person_products as (

    select
        person_id,
        product,
        min(occurred_at) as first_seen_at
    from {{ ref('fct_events') }}
    {% if is_incremental() -%}
    where person_id in (select person_id from {{ ref('int_persons_this_run') }})
    {%- else -%}
    where person_id is not null
    {%- endif %}
    group by person_id, product

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

    -- A recomputed person left without events: a row the post-hook deletes.
    select
        recomputed.person_id,
        cast(null as {{ dbt.type_string() }}) as product,
        cast(null as timestamp with time zone) as first_seen_at,
        {{ run_stamp() }} as built_at
    from {{ ref('int_persons_this_run') }} as recomputed
    where not exists (
        select 1 from person_products
        where person_products.person_id = recomputed.person_id
    )
    {%- endif %}

)

select * from final
