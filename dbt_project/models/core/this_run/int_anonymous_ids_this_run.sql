{#- The anonymous ids whose stored fct_events rows this run may re-identify: those whose claim
    int_anonymous_ids_claimed wrote since fct_events last applied the claims, and those whose
    alias claims this run voids (int_voided_aliases_this_run: the row of one left without
    claims is deleted, so there is no stamp to read). fct_events re-merges the stored anonymous
    events of these ids whose person changed. None in a full refresh or on a new warehouse.
    The limit is a scalar subquery: PostgreSQL then reads the claims by the built_at range. -#}

select anonymous_id
from {{ ref('int_anonymous_ids_claimed') }}
where built_at > (select claims_changed_after from {{ ref('int_run_limits') }})
    and built_at <= {{ run_stamp() }}

union

select anonymous_id from {{ ref('int_voided_aliases_this_run') }}
