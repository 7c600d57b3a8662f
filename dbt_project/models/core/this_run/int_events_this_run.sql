{#- The fct_events rows written since the incremental models downstream of fct_events last
    applied its changes (int_run_limits' `changed_after`): the events new to the warehouse and
    those re-identified or merged again by a partition run (`merged_again`). Every row
    fct_events merges gets the run's stamp, so nothing older can have changed. None in a full
    refresh or on a new warehouse. The limit is a scalar subquery, bounded by this run's stamp:
    PostgreSQL then reads the rows by the built_at index. -#}

select
    event_id,
    person_id,
    user_id,
    anonymous_id,
    event_name,
    product,
    channel,
    occurred_at,
    occurred_date,
    -- what int_conversions_valued values a conversion from
    received_at,
    stripe_charge_id,
    stripe_invoice_id,
    revenue,
    revenue_currency,
    -- merged before, so the models downstream can have seen it with another person
    first_built_at < built_at as merged_again
from {{ ref('fct_events') }}
where built_at > (select changed_after from {{ ref('int_run_limits') }})
    and built_at <= {{ run_stamp() }}
