{#- The anonymous ids whose alias claims this run voids: the previous_id of an alias that is a
    user id of an event received since int_run_limits' claims_received_from, or of
    shared_users (user ids never merge, so an alias naming one claims nothing). Read by
    int_anonymous_ids_claimed, which recomputes these ids from all their events (and deletes
    the row of one left without claims), and passed on to fct_events by
    int_anonymous_ids_this_run. None in a full refresh or on a new warehouse, whose claims are
    computed whole. The range's start is a scalar subquery: PostgreSQL then reads the range by
    its received_at index. -#}

with

limits as (

    select * from {{ ref('int_run_limits') }}

),

gated_aliases as (

    -- The aliases, none when there is no progress to read from. The gate stands on this, the
    -- smaller side of the join below, so that DuckDB then skips the user ids (it read all of
    -- them in a full build otherwise: 1.2–2.1 s at 10M events). Filtered on event_name first,
    -- so only the aliases parse their JSON.
    select distinct aliases.alias_previous_id
    from {{ ref('stg_shared__events') }} as aliases
    cross join limits
    where aliases.event_name = 'alias'
        and limits.claims_changed_after is not null

),

final as (

    select distinct gated_aliases.alias_previous_id as anonymous_id
    from gated_aliases
    inner join (
        select user_id from {{ ref('stg_shared__events') }}
        where received_at >= (select claims_received_from from limits)
            and received_at < cast('9999-01-01T00:00:00+00:00' as timestamp with time zone)
            and user_id is not null
        union all
        select user_id from {{ ref('stg_shared__users') }}
    ) as user_ids
        on gated_aliases.alias_previous_id = user_ids.user_id

)

select * from final
