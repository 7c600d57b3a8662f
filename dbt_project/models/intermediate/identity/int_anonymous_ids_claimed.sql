{#- One row per anonymous id that a user claimed (SPEC §7.1): seen on the same event as a
    user id, or named as `previous_id` by an `alias` event. The first claim (by occurred_at,
    then event_id) wins; later claims by other users are ignored, so two users never merge.
    An alias whose previous_id is itself a user id is not a claim (user ids never merge). -#}

with

events as (

    select
        event_id,
        event_name,
        user_id,
        anonymous_id,
        alias_previous_id,
        occurred_at

    from {{ ref('stg_shared__events') }}
    where user_id is not null

),

users as (

    select user_id from {{ ref('stg_shared__users') }}
    where user_id is not null

),

known_user_ids as (

    select user_id from events
    union
    select user_id from users

),

event_claims as (

    select
        anonymous_id,
        user_id,
        occurred_at as claimed_at,
        event_id as claim_event_id,
        'event' as claim_source

    from events
    where anonymous_id is not null
        and anonymous_id <> user_id

),

alias_claims as (

    select
        events.alias_previous_id as anonymous_id,
        events.user_id,
        events.occurred_at as claimed_at,
        events.event_id as claim_event_id,
        'alias' as claim_source

    from events
    left join known_user_ids
        on events.alias_previous_id = known_user_ids.user_id
    where events.event_name = 'alias'
        and events.alias_previous_id is not null
        and events.alias_previous_id <> events.user_id
        and known_user_ids.user_id is null

),

claims as (

    select * from event_claims
    union all
    select * from alias_claims

),

ranked as (

    select
        *,
        row_number() over (
            partition by anonymous_id
            order by claimed_at, claim_event_id
        ) as claim_rank

    from claims

),

final as (

    select
        anonymous_id,
        user_id,
        claimed_at,
        claim_event_id,
        claim_source

    from ranked
    where claim_rank = 1

)

select * from final
