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
        and alias_previous_id in (
            -- The gate stands in the bounds: DuckDB otherwise reads every user id of a full
            -- build before it tests a gate beside them (3.6 s at 10M events).
            select user_id from {{ ref('stg_shared__events') }}
            where received_at >= (
                select claims_received_from from limits
                where claims_changed_after is not null
            )
                and received_at < cast('9999-01-01T00:00:00+00:00' as timestamp with time zone)
                and user_id is not null
            union all
            select user_id from {{ ref('stg_shared__users') }}
            where (select claims_changed_after from limits) is not null
        )

)

select * from final
