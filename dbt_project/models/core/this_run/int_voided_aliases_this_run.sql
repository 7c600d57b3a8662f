{#- The anonymous ids whose alias claims this run voids: the previous_id of an alias that is a
    user id of an event received since int_run_limits' claims_received_from, or of
    shared_users (user ids never merge, so an alias naming one claims nothing). Read by
    int_anonymous_ids_claimed, which recomputes these ids from all their events (and deletes
    the row of one left without claims), and passed on to fct_events by
    int_anonymous_ids_this_run. None in a full refresh or on a new warehouse, whose claims are
    computed whole. The limits are scalar subqueries: PostgreSQL then reads the range by its
    received_at index. -#}

with

limits as (

    select * from {{ ref('int_run_limits') }}

),

final as (

    -- (aliases filtered on event_name first, so only they parse their JSON)
    select distinct alias_previous_id as anonymous_id
    from {{ ref('stg_shared__events') }}
    where event_name = 'alias'
        and (select claims_changed_after from limits) is not null
        and alias_previous_id in (
            select user_id from {{ ref('stg_shared__events') }}
            where received_at >= (select claims_received_from from limits)
                and received_at < cast('9999-01-01T00:00:00+00:00' as timestamp with time zone)
                and user_id is not null
            union all
            select user_id from {{ ref('stg_shared__users') }}
        )

)

select * from final
