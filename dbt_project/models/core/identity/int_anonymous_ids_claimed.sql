{#- One row per anonymous id that a user claimed (docs/METRICS.md, Identity): seen on the same event as a
    user id, or named as `previous_id` by an `alias` event. The first claim (by occurred_at,
    then event_id) wins; later claims by other users are ignored, so two users never merge.
    An alias whose previous_id is itself a user id is not a claim (user ids never merge).
    Incremental (delete+insert by anonymous_id): adding claims can only move an id's first
    claim earlier, so a run merges the stored first claims with the claims of the events
    received since int_run_limits' late-arrival cutoff (and, in a partition run, in the window). The one
    way a claim is lost is an alias claim whose previous_id has since become a user id: those
    ids are recomputed from all their events, and an id left without claims gets a row with a
    null user_id, which the post-hook deletes (DECISIONLOG.md, "Downstream incrementality").
    A run writes only the ids whose first claim it changed, stamped with the run (`built_at`):
    fct_events re-identifies the stored anonymous events of those ids alone. -#}

{{
    config(
        materialized='incremental',
        unique_key='anonymous_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where user_id is null",
    )
}}

-- depends_on: {{ ref('int_run_limits') }}

{#- A claim's columns, as stored. -#}
{% set claim_columns = [
    'anonymous_id', 'user_id', 'claimed_at', 'claim_event_id', 'claim_source', 'claim_received_at',
] %}
{% set event_columns = [
    'event_id', 'event_name', 'user_id', 'anonymous_id', 'alias_previous_id', 'occurred_at',
    'received_at',
] %}

with

users as (

    select user_id from {{ ref('stg_shared__users') }}
    where user_id is not null

),

{% if is_incremental() %}

events as (

    -- The events received since int_run_limits' late-arrival cutoff, or since the start of a
    -- partition window if earlier. Its limits are scalar subqueries, not a join: PostgreSQL
    -- then reads the range by the received_at index. The staging view is read directly
    -- wherever it is needed (a CTE read twice is materialized by PostgreSQL, which then parses
    -- every event's JSON).
    select {{ event_columns | join(', ') }}
    from {{ ref('stg_shared__events') }}
    where received_at >= (
        select least(new_events_from, received_from) from {{ ref('int_run_limits') }}
    )
        and received_at < cast('9999-01-01T00:00:00+00:00' as timestamp with time zone)
        and user_id is not null

),

alias_candidates as (

    select distinct alias_previous_id
    from events
    where event_name = 'alias'
        and alias_previous_id is not null
        and alias_previous_id <> user_id

),

known_user_ids as (

    -- Only the previous ids of the new aliases are looked up among all user ids, and only
    -- when there are any (`exists`: PostgreSQL then skips the scan).
    select alias_candidates.alias_previous_id as user_id
    from alias_candidates
    inner join {{ ref('stg_shared__events') }} as staged
        on alias_candidates.alias_previous_id = staged.user_id
    where exists (select 1 from alias_candidates)
    union
    select users.user_id
    from users

),

stored as (

    select * from {{ this }}

),

invalidated as (

    -- Stored alias claims of an id that is a user id now.
    select stored.anonymous_id
    from stored
    inner join (
        select user_id from events
        union
        select user_id from users
    ) as new_user_ids
        on stored.anonymous_id = new_user_ids.user_id
    where stored.claim_source = 'alias'

),

recomputed_events as (

    -- All the events claiming an invalidated id, for its event claims (its alias claims are
    -- all void now).
    select
        staged.event_id,
        staged.user_id,
        staged.anonymous_id,
        staged.occurred_at,
        staged.received_at
    from {{ ref('stg_shared__events') }} as staged
    inner join invalidated
        on staged.anonymous_id = invalidated.anonymous_id
    where staged.user_id is not null
        and exists (select 1 from invalidated)

),

previous_claims as (

    select {{ claim_columns | join(', ') }}
    from stored
    where anonymous_id not in (select anonymous_id from invalidated)

),

{% else %}

events as (

    select {{ event_columns | join(', ') }}
    from {{ ref('stg_shared__events') }}
    where user_id is not null

),

known_user_ids as (

    select user_id from events
    union
    select user_id from users

),

{% endif %}

event_claims as (

    select
        anonymous_id,
        user_id,
        occurred_at as claimed_at,
        event_id as claim_event_id,
        'event' as claim_source,
        received_at as claim_received_at
    from (
        select event_id, user_id, anonymous_id, occurred_at, received_at from events
        {%- if is_incremental() %}
        union all
        select event_id, user_id, anonymous_id, occurred_at, received_at from recomputed_events
        {%- endif %}
    ) as claiming_events
    where anonymous_id is not null
        and anonymous_id <> user_id

),

alias_claims as (

    select
        events.alias_previous_id as anonymous_id,
        events.user_id,
        events.occurred_at as claimed_at,
        events.event_id as claim_event_id,
        'alias' as claim_source,
        events.received_at as claim_received_at
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

{% if is_incremental() %}

candidates as (

    -- Each changed id's new claims, with its stored first claim if it still holds.
    select * from claims
    union all
    select previous_claims.*
    from previous_claims
    inner join (select distinct anonymous_id from claims) as claimed
        on previous_claims.anonymous_id = claimed.anonymous_id

),

{% else %}

candidates as (

    select * from claims

),

{% endif %}

ranked as (

    select
        *,
        row_number() over (
            partition by anonymous_id
            order by claimed_at, claim_event_id
        ) as claim_rank
    from candidates

),

first_claims as (

    select {{ claim_columns | join(', ') }}
    from ranked
    where claim_rank = 1

),

{% if is_incremental() %}

changed_claims as (

    -- A claim is its event's: the same claiming event and source is the same claim.
    select first_claims.*
    from first_claims
    where not exists (
        select 1
        from {{ this }} as stored
        where stored.anonymous_id = first_claims.anonymous_id
            and stored.claim_event_id = first_claims.claim_event_id
            and stored.claim_source = first_claims.claim_source
    )

),

{% else %}

changed_claims as (

    select * from first_claims

),

{% endif %}

final as (

    select
        {{ claim_columns | join(', ') }},
        {{ run_stamp() }} as built_at
    from changed_claims
    {% if is_incremental() %}
    union all
    -- An invalidated id left without any claim: a row the post-hook deletes.
    select
        invalidated.anonymous_id,
        cast(null as {{ dbt.type_string() }}) as user_id,
        cast(null as timestamp with time zone) as claimed_at,
        cast(null as {{ dbt.type_string() }}) as claim_event_id,
        cast(null as {{ dbt.type_string() }}) as claim_source,
        cast(null as timestamp with time zone) as claim_received_at,
        {{ run_stamp() }} as built_at
    from invalidated
    where invalidated.anonymous_id not in (select anonymous_id from first_claims)
    {% endif %}

)

select * from final
