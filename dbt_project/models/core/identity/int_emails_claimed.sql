{#- One row per email that belongs to a user (docs/METRICS.md, Identity): through shared_users first (the
    earliest created user holding it), else through the first `identify` event whose traits
    carry it. An email never joins two users. -#}

with

users as (

    select
        user_id,
        email,
        created_at
    from {{ ref('stg_shared__users') }}
    where user_id is not null
        and email is not null

),

identifies as (

    select
        user_id,
        traits_email as email,
        occurred_at,
        event_id
    from {{ ref('stg_shared__events') }}
    where event_name = 'identify'
        and user_id is not null
        and traits_email is not null

),

claims as (

    select
        email,
        user_id,
        1 as claim_priority,
        created_at as claimed_at,
        user_id as tie_breaker,
        'shared_users' as claim_source
    from users

    union all

    select
        email,
        user_id,
        2 as claim_priority,
        occurred_at as claimed_at,
        event_id as tie_breaker,
        'identify' as claim_source
    from identifies

),

ranked as (

    select
        *,
        row_number() over (
            partition by email
            order by claim_priority, claimed_at, tie_breaker
        ) as claim_rank
    from claims

),

final as (

    select
        email,
        user_id,
        claimed_at,
        claim_source
    from ranked
    where claim_rank = 1

)

select * from final
