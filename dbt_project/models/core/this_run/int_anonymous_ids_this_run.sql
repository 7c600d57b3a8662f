{#- The anonymous ids whose stored fct_events rows this run may re-identify: those whose claim
    int_anonymous_ids_claimed wrote since fct_events last applied the claims, and those of
    alias claims voided by the events received in this run's range or by shared_users (an
    alias claim is void once its previous_id turns out to be a user id; its row is deleted
    then, so there is no stamp to read). fct_events re-merges the stored anonymous events of
    these ids whose person changed. None in a full refresh or on a new warehouse.
    The limits are scalar subqueries: PostgreSQL then reads the ranges by their index. -#}

with

limits as (

    select * from {{ ref('int_run_limits') }}

),

final as (

    select anonymous_id
    from {{ ref('int_anonymous_ids_claimed') }}
    where built_at > (select claims_changed_after from limits)
        and built_at <= {{ run_stamp() }}

    union

    select alias_previous_id as anonymous_id
    from {{ ref('stg_shared__events') }}
    where event_name = 'alias'
        and (select claims_changed_after from limits) is not null
        and alias_previous_id in (
            select user_id from {{ ref('stg_shared__events') }}
            where received_at >= (select received_from from limits)
                and received_at < (select received_until from limits)
                and user_id is not null
            union all
            select user_id from {{ ref('stg_shared__users') }}
        )

)

select * from final
