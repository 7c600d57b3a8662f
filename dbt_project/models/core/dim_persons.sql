{#- One row per person (docs/METRICS.md, Identity): every person_id of fct_events, and every shared user. -#}

with

event_persons as (

    -- Per-person aggregates of fct_events; a run recomputes only the persons whose events changed.
    select * from {{ ref('int_person_event_stats') }}

),

users as (

    select * from {{ ref('stg_shared__users') }}
    where user_id is not null

),

stripe_customers as (

    select
        user_id,
        min(customer_id) as stripe_customer_id
    from {{ ref('int_stripe_customers_identified') }}
    group by user_id

),

persons as (

    select person_id from event_persons
    union
    select user_id as person_id from users

),

final as (

    select
        persons.person_id,
        coalesce(users.user_id, event_persons.user_id) as user_id,
        coalesce(users.user_id, event_persons.user_id) is not null as is_identified,
        coalesce(users.email, event_persons.latest_traits_email) as email,
        coalesce(users.stripe_customer_id, stripe_customers.stripe_customer_id) as stripe_customer_id,
        users.display_name,
        users.created_at as user_created_at,
        event_persons.first_seen_at,
        event_persons.last_seen_at,
        event_persons.first_product,
        coalesce(event_persons.events, 0) as events,
        coalesce(event_persons.anonymous_ids, 0) as anonymous_ids,
        coalesce(event_persons.products, 0) as products
    from persons
    left join event_persons
        on persons.person_id = event_persons.person_id
    left join users
        on persons.person_id = users.user_id
    left join stripe_customers
        on persons.person_id = stripe_customers.user_id

)

select * from final
