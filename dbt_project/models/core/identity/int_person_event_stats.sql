{#- One row per person of fct_events: what dim_persons and rpt_cross_product_usage take from
    their events (docs/METRICS.md, Identity and Unified); the products come from int_person_products.
    Incremental (delete+insert by person_id), for the persons of int_persons_this_run, the only
    ones whose events can have changed. One who only gained events, all later than their stored
    `last_seen_at` (not `regrouped`, none merged again), is merged: their stored row plus the
    aggregates of the new events (the first product stays; an anonymous id counts when none of
    their stored events carries it). Any other is recomputed from all their events; the
    post-hook deletes the row of one left without events. -#}

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

{% set event_columns = [
    'event_id', 'person_id', 'user_id', 'product', 'event_name', 'occurred_at', 'anonymous_id',
] %}

with

{% if is_incremental() -%}
merged_persons as (

    select stored.*
    from {{ this }} as stored
    inner join {{ ref('int_persons_this_run') }} as persons
        on stored.person_id = persons.person_id
        and not persons.regrouped
    where not exists (
        select 1
        from {{ ref('int_events_this_run') }} as changed
        where changed.person_id = stored.person_id
            and (changed.merged_again or changed.occurred_at <= stored.last_seen_at)
    )

),

recomputed_persons as (

    select persons.person_id
    from {{ ref('int_persons_this_run') }} as persons
    where not exists (
        select 1 from merged_persons
        where merged_persons.person_id = persons.person_id
    )

),

stored_anonymous_ids as (

    -- The anonymous ids of the merged persons' new events that their stored events carry.
    -- Per new event, by the anonymous_id index on PostgreSQL (per_row_lookup): as a join, it
    -- was at times merged with a scan of the whole index (13 s against 0.5 s at 10M events).
    select distinct
        gained.person_id,
        gained.anonymous_id
    from {{ ref('int_events_this_run') }} as gained
    inner join merged_persons
        on gained.person_id = merged_persons.person_id
    cross join lateral (
        -- (qualified: the subquery reads the outer rows)
        select stored_events.event_id
        from {{ ref('fct_events') }} as stored_events
        where stored_events.anonymous_id = gained.anonymous_id  -- noqa: RF03
            and stored_events.person_id = gained.person_id  -- noqa: RF03
            and stored_events.occurred_at <= merged_persons.last_seen_at  -- noqa: RF03
        {{ per_row_lookup() }}
    ) as stored_event
    where gained.anonymous_id is not null

),

{% endif -%}
person_events as (

    -- The events aggregated: all the events of the persons recomputed (in an incremental run,
    -- those of int_persons_this_run that are not merged) and the new events of the merged
    -- persons. An anonymous id counts for a person the first time one of their events carries
    -- it (`counted_anonymous_id`); a merged person's stored row counts those of their stored
    -- events.
    select
        {% for column in event_columns -%}
        person_event_rows.{{ column }},
        {% endfor -%}
        person_event_rows.anonymous_id as counted_anonymous_id
    from {{ ref('fct_events') }} as person_event_rows
    {% if is_incremental() -%}
    where person_event_rows.person_id in (select person_id from recomputed_persons)

    union all

    select
        {% for column in event_columns -%}
        gained.{{ column }},
        {% endfor -%}
        case when stored_anonymous_ids.anonymous_id is null then gained.anonymous_id end as counted_anonymous_id
    from {{ ref('int_events_this_run') }} as gained
    left join stored_anonymous_ids
        on gained.person_id = stored_anonymous_ids.person_id
        and gained.anonymous_id = stored_anonymous_ids.anonymous_id
    where gained.person_id in (select person_id from merged_persons)
    {%- else -%}
    where person_event_rows.person_id is not null
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

computed_stats as (

    select
        event_persons.*,
        first_events.first_product,
        latest_trait_emails.traits_email as latest_traits_email
    from event_persons
    left join first_events
        on event_persons.person_id = first_events.person_id
        and first_events.event_rank = 1
    left join latest_trait_emails
        on event_persons.person_id = latest_trait_emails.person_id
        and latest_trait_emails.email_rank = 1

),

person_stats as (

    {% if not is_incremental() -%}
    select * from computed_stats
    {%- else -%}
    select * from computed_stats
    where person_id in (select person_id from recomputed_persons)

    union all

    -- A merged person: the stored row with the new events added (all of them later than the
    -- stored ones, so the first product stays and a new traits email is the latest).
    select
        stored.person_id,
        case
            when stored.user_id is null then gained.user_id
            when gained.user_id is null or stored.user_id >= gained.user_id then stored.user_id
            else gained.user_id
        end as user_id,
        stored.events + gained.events as events,
        stored.anonymous_ids + gained.anonymous_ids as anonymous_ids,
        stored.first_seen_at,
        gained.last_seen_at,
        stored.has_purchased or gained.has_purchased as has_purchased,
        stored.first_product,
        coalesce(gained.latest_traits_email, stored.latest_traits_email) as latest_traits_email
    from merged_persons as stored
    inner join computed_stats as gained
        on stored.person_id = gained.person_id
    {%- endif %}

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
