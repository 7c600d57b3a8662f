{#- One row per anonymous id that a user claimed (docs/METRICS.md, Identity): seen on the same event as a
    user id, or named as `previous_id` by an `alias` event. The first claim (by occurred_at,
    then event_id) wins; later claims by other users are ignored, so two users never merge.
    An alias whose previous_id is itself a user id is not a claim (user ids never merge).
    Incremental (delete+insert by anonymous_id): adding claims can only move an id's first
    claim earlier, so a run merges the stored first claims with the claims of the events
    received since int_run_limits' claims_received_from. The one way a claim is lost is an
    alias claim whose previous_id has since become a user id: the ids of
    int_voided_aliases_this_run are recomputed from all their events, and the post-hook
    deletes the row of one left without claims. A run writes only the ids whose first claim
    it changed, and the voided ones, stamped with the run (`built_at`): fct_events
    re-identifies the stored anonymous events of those ids alone. -#}

{{
    config(
        materialized='incremental',
        unique_key='anonymous_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ delete_rows_not_rebuilt('anonymous_id', ref('int_voided_aliases_this_run')) }}",
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

voided as (

    select anonymous_id from {{ ref('int_voided_aliases_this_run') }}

),

events as (

    -- The identified events (in an incremental run, those received since the run's
    -- claims_received_from: a scalar subquery, so that PostgreSQL reads the range by the
    -- received_at index). The staging view is read directly wherever it is needed (a CTE read
    -- twice is materialized by PostgreSQL, which then parses every event's JSON).
    select {{ event_columns | join(', ') }}
    from {{ ref('stg_shared__events') }}
    where user_id is not null
    {%- if is_incremental() %}
        and received_at >= (select claims_received_from from {{ ref('int_run_limits') }})
        and received_at < cast('9999-01-01T00:00:00+00:00' as timestamp with time zone)
    {%- endif %}

),

alias_candidates as (

    select distinct alias_previous_id
    from events
    where event_name = 'alias'
        and alias_previous_id is not null
        and alias_previous_id <> user_id

),

known_user_ids as (

    -- Only the previous ids of the aliases are looked up among all user ids, and only when
    -- there are any (`exists`: PostgreSQL then skips the scan).
    select alias_candidates.alias_previous_id as user_id
    from alias_candidates
    inner join {{ ref('stg_shared__events') }} as staged
        on alias_candidates.alias_previous_id = staged.user_id
    where exists (select 1 from alias_candidates)
    union
    select users.user_id
    from users

),

claiming_events as (

    select event_id, user_id, anonymous_id, occurred_at, received_at from events

    union all

    -- All the events claiming a voided id, for its event claims (its alias claims are void).
    select
        staged.event_id,
        staged.user_id,
        staged.anonymous_id,
        staged.occurred_at,
        staged.received_at
    from {{ ref('stg_shared__events') }} as staged
    inner join voided
        on staged.anonymous_id = voided.anonymous_id
    where staged.user_id is not null
        and exists (select 1 from voided)

),

event_claims as (

    select
        anonymous_id,
        user_id,
        occurred_at as claimed_at,
        event_id as claim_event_id,
        'event' as claim_source,
        received_at as claim_received_at
    from claiming_events
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

candidates as (

    select * from claims
    {%- if is_incremental() %}
    union all
    -- The stored first claim of each id claimed again, unless voided.
    select {{ claim_columns | join(', ') }}
    from {{ this }}
    where anonymous_id in (select anonymous_id from claims)
        and anonymous_id not in (select anonymous_id from voided)
    {%- endif %}

),

ranked as (

    select
        *,
        row_number() over (
            partition by anonymous_id
            order by claimed_at, claim_event_id
        ) as claim_rank
    from candidates

),

final as (

    select
        {{ claim_columns | join(', ') }},
        {{ run_stamp() }} as built_at
    from ranked
    where claim_rank = 1
    {%- if is_incremental() %}
        -- A claim is its event's: the same claiming event and source is the same claim. A
        -- voided id is always written. (One `not exists`, which PostgreSQL runs as an
        -- anti-join; beside an `or` it scanned the table once per claim.)
        and not exists (
            select 1
            from {{ this }} as stored
            where stored.anonymous_id = ranked.anonymous_id
                and stored.claim_event_id = ranked.claim_event_id
                and stored.claim_source = ranked.claim_source
                and stored.anonymous_id not in (select anonymous_id from voided)
        )
    {%- endif %}

)

select * from final
