{#- One row per person (SPEC §7.1): every person_id of fct_events, and every shared user. -#}

with

events as (

    select
        fct_events.event_id,
        fct_events.person_id,
        fct_events.user_id,
        fct_events.anonymous_id,
        fct_events.product,
        fct_events.occurred_at,
        identifies.traits_email
    from {{ ref('fct_events') }} as fct_events
    left join (
        select
            event_id as identify_event_id,
            traits_email
        from {{ ref('stg_shared__events') }}
        where event_name = 'identify'
            and traits_email is not null
    ) as identifies
        on fct_events.event_id = identifies.identify_event_id
    where fct_events.person_id is not null

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

event_persons as (

    select
        person_id,
        max(user_id) as user_id,
        count(*) as events,
        count(distinct anonymous_id) as anonymous_ids,
        count(distinct product) as products,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at
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
        coalesce(users.email, latest_trait_emails.traits_email) as email,
        coalesce(users.stripe_customer_id, stripe_customers.stripe_customer_id) as stripe_customer_id,
        users.display_name,
        users.created_at as user_created_at,
        event_persons.first_seen_at,
        event_persons.last_seen_at,
        first_events.first_product,
        coalesce(event_persons.events, 0) as events,
        coalesce(event_persons.anonymous_ids, 0) as anonymous_ids,
        coalesce(event_persons.products, 0) as products
    from persons
    left join event_persons
        on persons.person_id = event_persons.person_id
    left join users
        on persons.person_id = users.user_id
    left join first_events
        on persons.person_id = first_events.person_id
        and first_events.event_rank = 1
    left join latest_trait_emails
        on persons.person_id = latest_trait_emails.person_id
        and latest_trait_emails.email_rank = 1
    left join stripe_customers
        on persons.person_id = stripe_customers.user_id

)

select * from final
