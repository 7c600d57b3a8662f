{#- One row per person of fct_events: what dim_persons and rpt_cross_product_usage take from
    their events (docs/METRICS.md, Identity and Unified); the products come from int_person_products.
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

{#- This model's latest run, read once. -#}
{% set latest_run = built_after(this) %}

{{ affected_persons_ctes(latest_run) }},

new_events as (

    -- The events of the persons that were not regrouped, first merged after this model's
    -- latest run.
    select changed_events.*
    from changed_events
    left join regrouped_persons
        on changed_events.person_id = regrouped_persons.person_id
    where changed_events.person_id is not null
        and regrouped_persons.person_id is null
        and changed_events.first_built_at > {{ latest_run }}

),

gaining_persons_stored as (

    select stored.*
    from {{ this }} as stored
    where stored.person_id in (select new_events.person_id from new_events)

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

merged_events as (

    select new_events.*
    from new_events
    left join recomputed_persons
        on new_events.person_id = recomputed_persons.person_id
    where recomputed_persons.person_id is null

),

merged_persons_stored as (

    select *
    from gaining_persons_stored
    where person_id in (select person_id from merged_events)

),

counted_anonymous_ids as (

    -- The merged persons' new anonymous ids that one of their counted events carried already.
    select
        pairs.person_id,
        pairs.anonymous_id
    from (
        select distinct person_id, anonymous_id
        from merged_events
        where anonymous_id is not null
    ) as pairs
    where exists (
        select 1
        from {{ ref('fct_events') }} as counted
        where counted.anonymous_id = pairs.anonymous_id
            and counted.person_id = pairs.person_id
            and counted.first_built_at <= {{ latest_run }}
    )

),

persons as (

    select person_id from recomputed_persons
    union
    select person_id from merged_events

),

{% endif %}

person_events as (

    -- All the events of the persons computed from scratch (in an incremental run the
    -- recomputed persons, through a semi-join, see affected_persons_ctes) and, in an
    -- incremental run, the new events of the merged persons, whose stored counts they add to.
    -- An anonymous id counts for a person the first time one of their events carries it.
    select
        event_id,
        person_id,
        user_id,
        product,
        event_name,
        occurred_at,
        anonymous_id as counted_anonymous_id
    from {{ ref('fct_events') }}
    {% if is_incremental() -%}
    where person_id in (select person_id from recomputed_persons)

    union all

    select
        merged_events.event_id,
        merged_events.person_id,
        merged_events.user_id,
        merged_events.product,
        merged_events.event_name,
        merged_events.occurred_at,
        case when counted.person_id is null then merged_events.anonymous_id end as counted_anonymous_id
    from merged_events
    left join counted_anonymous_ids as counted
        on merged_events.person_id = counted.person_id
        and merged_events.anonymous_id = counted.anonymous_id
    {%- else %}
    where person_id is not null
    {%- endif %}

),

events as (

    select
        person_events.*,
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
        count(distinct counted_anonymous_id) as anonymous_ids,
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

{% if not is_incremental() %}

persons as (

    select person_id from event_persons

),

merged_persons_stored as (

    -- A full build: nothing stored to add to.
    select
        cast(null as {{ dbt.type_string() }}) as person_id,
        cast(null as {{ dbt.type_string() }}) as user_id,
        cast(null as bigint) as events,
        cast(null as bigint) as anonymous_ids,
        cast(null as timestamp with time zone) as first_seen_at,
        cast(null as timestamp with time zone) as last_seen_at,
        cast(null as {{ dbt.type_string() }}) as first_product,
        cast(null as {{ dbt.type_string() }}) as latest_traits_email,
        cast(null as boolean) as has_purchased
    where 1 = 0

),

{% endif %}

person_stats as (

    -- The stored row is that of a merged person (none for a recomputed one): its counts add
    -- to those of the new events, and no new event is at or before its first sighting.
    select
        persons.person_id,
        case
            when stored.user_id is null then event_persons.user_id
            when event_persons.user_id is null then stored.user_id
            when event_persons.user_id > stored.user_id then event_persons.user_id
            else stored.user_id
        end as user_id,
        coalesce(stored.events, 0) + coalesce(event_persons.events, 0) as events,
        coalesce(stored.anonymous_ids, 0) + coalesce(event_persons.anonymous_ids, 0) as anonymous_ids,
        coalesce(stored.first_seen_at, event_persons.first_seen_at) as first_seen_at,
        case
            when stored.last_seen_at > event_persons.last_seen_at then stored.last_seen_at
            else event_persons.last_seen_at
        end as last_seen_at,
        coalesce(stored.first_product, first_events.first_product) as first_product,
        coalesce(stored.latest_traits_email, latest_trait_emails.traits_email) as latest_traits_email,
        coalesce(stored.has_purchased, false) or coalesce(event_persons.has_purchased, false) as has_purchased
    from persons
    left join merged_persons_stored as stored
        on persons.person_id = stored.person_id
    left join event_persons
        on persons.person_id = event_persons.person_id
    left join first_events
        on persons.person_id = first_events.person_id
        and first_events.event_rank = 1
    left join latest_trait_emails
        on persons.person_id = latest_trait_emails.person_id
        and latest_trait_emails.email_rank = 1

),

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
