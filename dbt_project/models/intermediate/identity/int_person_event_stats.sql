{#- One row per person of fct_events: what dim_persons and rpt_cross_product_usage take from
    their events (SPEC §7.1, §7.11).
    Incremental (delete+insert by person_id): a run recomputes, from all of a person's events,
    only the persons whose events can have changed since its own latest run (macro
    affected_persons_ctes).
    A recomputed person left without events gets a row with events = 0, which the post-hook
    deletes, so the table holds the rows of a full refresh (DECISIONLOG.md, "Downstream
    incrementality"). -#}

{{
    config(
        materialized='incremental',
        unique_key='person_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where events = 0",
    )
}}

-- depends_on: {{ ref('stg_shared__events') }}

with

{% if is_incremental() %}

{{ affected_persons_ctes() }},

person_events as (

    -- A semi-join (see affected_persons_ctes).
    select *
    from {{ ref('fct_events') }}
    where person_id in (select person_id from affected_persons)

),

{% else %}

person_events as (

    select * from {{ ref('fct_events') }}
    where person_id is not null

),

{% endif %}

events as (

    select
        person_events.event_id,
        person_events.person_id,
        person_events.user_id,
        person_events.anonymous_id,
        person_events.product,
        person_events.event_name,
        person_events.occurred_at,
        identifies.traits_email
    from person_events
    left join (
        select
            event_id as identify_event_id,
            traits_email
        from {{ ref('stg_shared__events') }}
        where event_name = 'identify'
            and traits_email is not null
    ) as identifies
        on person_events.event_id = identifies.identify_event_id

),

event_persons as (

    select
        person_id,
        max(user_id) as user_id,
        count(*) as events,
        count(distinct anonymous_id) as anonymous_ids,
        count(distinct product) as products,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        max(case when event_name = 'purchase_completed' then 1 else 0 end) = 1 as has_purchased
    from events
    group by person_id

),

person_products as (

    select distinct
        person_id,
        product
    from events

),

product_combinations as (

    select
        person_id,
        {{ dbt.listagg('product', "'+'", 'order by product') }} as product_combination
    from person_products
    group by person_id

),

first_events as (

    select
        person_id,
        product as first_product,
        row_number() over (partition by person_id order by occurred_at, event_id) as event_rank
    from events

),

latest_trait_emails as (

    select
        person_id,
        traits_email,
        row_number() over (partition by person_id order by occurred_at desc, event_id desc) as email_rank
    from events
    where traits_email is not null

),

persons as (

    {% if is_incremental() %}
    select person_id from affected_persons
    {% else %}
    select person_id from event_persons
    {% endif %}

),

final as (

    select
        persons.person_id,
        event_persons.user_id,
        coalesce(event_persons.events, 0) as events,
        coalesce(event_persons.anonymous_ids, 0) as anonymous_ids,
        coalesce(event_persons.products, 0) as products,
        event_persons.first_seen_at,
        event_persons.last_seen_at,
        first_events.first_product,
        latest_trait_emails.traits_email as latest_traits_email,
        cast(product_combinations.product_combination as {{ dbt.type_string() }}) as product_combination,
        coalesce(event_persons.has_purchased, false) as has_purchased,
        {{ run_stamp() }} as built_at
    from persons
    left join event_persons
        on persons.person_id = event_persons.person_id
    left join first_events
        on persons.person_id = first_events.person_id
        and first_events.event_rank = 1
    left join latest_trait_emails
        on persons.person_id = latest_trait_emails.person_id
        and latest_trait_emails.email_rank = 1
    left join product_combinations
        on persons.person_id = product_combinations.person_id

)

select * from final
