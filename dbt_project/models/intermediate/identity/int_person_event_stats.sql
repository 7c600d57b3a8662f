{#- One row per person of fct_events: what dim_persons and rpt_cross_product_usage take from
    their events (SPEC §7.1, §7.11); the products come from int_person_products.
    Incremental (delete+insert by person_id), for the persons of macro affected_persons_ctes:
    - a person who can have lost events (`regrouped_persons`), or whose new events can change
      their first product or latest email (an event at or before their first sighting, an
      identify), is recomputed from all their events; one left without events gets a row with
      events = 0, which the post-hook deletes;
    - any other person only gained events this model has not counted yet (fct_events'
      `first_built_at` is after its latest run), so their counts are the stored ones plus those
      of the new events. An event merged again (a partition run) keeps its first_built_at and
      is not counted twice. After a rebuild of fct_events every event is new by its stamp,
      and so every stored person is recomputed (their first event is among the new ones).
    So the table holds the rows of a full refresh (DECISIONLOG.md, "Downstream
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

new_events as (

    -- The events of the persons that were not regrouped, first merged after this model's
    -- latest run.
    select changed_events.*
    from changed_events
    left join regrouped_persons
        on changed_events.person_id = regrouped_persons.person_id
    where changed_events.person_id is not null
        and regrouped_persons.person_id is null
        and changed_events.first_built_at > {{ built_after(this) }}

),

gaining_persons_stored as (

    select *
    from {{ this }} as stored
    where stored.person_id in (select person_id from new_events)

),

recomputed_persons as (

    select person_id from regrouped_persons

    union

    select new_events.person_id
    from new_events
    inner join gaining_persons_stored as stored
        on new_events.person_id = stored.person_id
    where new_events.occurred_at <= stored.first_seen_at

    union

    select person_id
    from new_events
    where event_name = 'identify'

),

person_events as (

    -- A semi-join (see affected_persons_ctes).
    select *
    from {{ ref('fct_events') }}
    where person_id in (select person_id from recomputed_persons)

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
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        max(case when event_name = 'purchase_completed' then 1 else 0 end) = 1 as has_purchased
    from events
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

recomputed as (

    select
        persons.person_id,
        event_persons.user_id,
        coalesce(event_persons.events, 0) as events,
        coalesce(event_persons.anonymous_ids, 0) as anonymous_ids,
        event_persons.first_seen_at,
        event_persons.last_seen_at,
        first_events.first_product,
        latest_trait_emails.traits_email as latest_traits_email,
        coalesce(event_persons.has_purchased, false) as has_purchased
    from (
        {% if is_incremental() %}
        select person_id from recomputed_persons
        {% else %}
        select person_id from event_persons
        {% endif %}
    ) as persons
    left join event_persons
        on persons.person_id = event_persons.person_id
    left join first_events
        on persons.person_id = first_events.person_id
        and first_events.event_rank = 1
    left join latest_trait_emails
        on persons.person_id = latest_trait_emails.person_id
        and latest_trait_emails.email_rank = 1

),

{% if is_incremental() %}

merged_events as (

    select new_events.*
    from new_events
    left join recomputed_persons
        on new_events.person_id = recomputed_persons.person_id
    where recomputed_persons.person_id is null

),

gained as (

    select
        person_id,
        max(user_id) as user_id,
        count(*) as events,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        max(case when event_name = 'purchase_completed' then 1 else 0 end) = 1 as has_purchased
    from merged_events
    group by person_id

),

gained_first_products as (

    -- Only used for a person without a stored row (their first event is a new one).
    select
        person_id,
        product as first_product,
        row_number() over (partition by person_id order by occurred_at, event_id) as event_rank
    from merged_events

),

gained_anonymous_ids as (

    -- The new events' anonymous ids that none of the person's counted events carried.
    select
        person_anonymous_ids.person_id,
        count(*) as anonymous_ids
    from (
        select distinct person_id, anonymous_id
        from merged_events
        where anonymous_id is not null
    ) as person_anonymous_ids
    where not exists (
        select 1
        from {{ ref('fct_events') }} as counted
        where counted.anonymous_id = person_anonymous_ids.anonymous_id
            and counted.person_id = person_anonymous_ids.person_id
            and counted.first_built_at <= {{ built_after(this) }}
    )
    group by person_anonymous_ids.person_id

),

merged as (

    select
        gained.person_id,
        case
            when stored.user_id is null then gained.user_id
            when gained.user_id is null then stored.user_id
            when gained.user_id > stored.user_id then gained.user_id
            else stored.user_id
        end as user_id,
        coalesce(stored.events, 0) + gained.events as events,
        coalesce(stored.anonymous_ids, 0) + coalesce(gained_anonymous_ids.anonymous_ids, 0) as anonymous_ids,
        -- No new event is at or before a stored first sighting (those persons are recomputed).
        coalesce(stored.first_seen_at, gained.first_seen_at) as first_seen_at,
        case
            when stored.last_seen_at > gained.last_seen_at then stored.last_seen_at
            else gained.last_seen_at
        end as last_seen_at,
        coalesce(stored.first_product, gained_first_products.first_product) as first_product,
        stored.latest_traits_email,
        coalesce(stored.has_purchased, false) or gained.has_purchased as has_purchased
    from gained
    left join gaining_persons_stored as stored
        on gained.person_id = stored.person_id
    left join gained_first_products
        on gained.person_id = gained_first_products.person_id
        and gained_first_products.event_rank = 1
    left join gained_anonymous_ids
        on gained.person_id = gained_anonymous_ids.person_id

),

person_stats as (

    select * from recomputed
    union all
    select * from merged

),

{% else %}

person_stats as (

    select * from recomputed

),

{% endif %}

product_combinations as (

    select
        person_id,
        count(*) as products,
        {{ dbt.listagg('product', "'+'", 'order by product') }} as product_combination
    from {{ ref('int_person_products') }}
    where person_id in (select person_id from person_stats)
    group by person_id

),

final as (

    select
        person_stats.person_id,
        person_stats.user_id,
        person_stats.events,
        person_stats.anonymous_ids,
        coalesce(product_combinations.products, 0) as products,
        person_stats.first_seen_at,
        person_stats.last_seen_at,
        person_stats.first_product,
        person_stats.latest_traits_email,
        cast(product_combinations.product_combination as {{ dbt.type_string() }}) as product_combination,
        person_stats.has_purchased,
        {{ run_stamp() }} as built_at
    from person_stats
    left join product_combinations
        on person_stats.person_id = product_combinations.person_id

)

select * from final
