{#- The persons whose events this run's changes can have changed (docs/INCREMENTAL.md): the
    person of every event in int_events_this_run, and every person an event merged again can
    have belonged to before (`regrouped`): for the anonymous id of each such anonymous event,
    its `anon:` person and each user that ever claimed it (through an event carrying both ids,
    an alias, or a shared_users row with that very id). Only those can have lost events; the
    others only gained some. An event's person changes only when fct_events merges it again
    (an identified event's never does), or when fct_events is rebuilt alone: then no row is
    older than the changes and every changed anonymous event counts. -#}

with

changed_events as (

    select * from {{ ref('int_events_this_run') }}

),

fct_events_rebuilt as (

    -- (stops at the first older row, normally the table's first)
    select not exists (
        select 1
        from {{ ref('fct_events') }}
        where first_built_at <= (select changed_after from {{ ref('int_run_limits') }})
    ) as rebuilt

),

reidentified_anonymous_ids as (

    select distinct anonymous_id
    from changed_events
    where user_id is null
        and anonymous_id is not null
        and (merged_again or (select rebuilt from fct_events_rebuilt))

),

persons as (

    select
        person_id,
        0 as regrouped
    from changed_events
    where person_id is not null

    union

    select
        {{ person_id('null', 'null', 'anonymous_id') }} as person_id,
        1 as regrouped
    from reidentified_anonymous_ids

    union

    select
        fct_events.user_id as person_id,
        1 as regrouped
    from {{ ref('fct_events') }} as fct_events
    where fct_events.user_id is not null
        and fct_events.anonymous_id in (select anonymous_id from reidentified_anonymous_ids)

    union

    -- (aliases filtered on event_name first, so only they parse their JSON)
    select
        aliases.user_id as person_id,
        1 as regrouped
    from (
        select
            user_id,
            alias_previous_id
        from {{ ref('stg_shared__events') }}
        where event_name = 'alias'
            and user_id is not null
    ) as aliases
    where aliases.alias_previous_id in (select anonymous_id from reidentified_anonymous_ids)

    union

    select
        anonymous_id as person_id,
        1 as regrouped
    from reidentified_anonymous_ids

)

select
    person_id,
    max(regrouped) = 1 as regrouped
from persons
group by person_id
