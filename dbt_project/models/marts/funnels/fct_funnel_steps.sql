{#- One row per funnel × person × reached step (docs/METRICS.md, Funnels). A person enters at their first
    step-1 event; step k is reached at the earliest step-k event at or after the moment step
    k−1 was reached (not that same event), within the step's conversion window from entry
    (the boundary included). Ties in time are ordered by event_id. Funnels have at most
    var('funnel_max_steps', 10) steps.
    Incremental (delete+insert by person_id): a person's steps depend on their own step events
    only, so a run recomputes, from all their step events, the persons of
    int_persons_this_run; the post-hook deletes the rows of one left without steps. -#}

{{
    config(
        materialized='incremental',
        unique_key='person_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        meta={'rebuild_on_vars': ['funnel_max_steps']},
        pre_hook="{{ hash_joins_only() }}",
        post_hook="{{ delete_rows_not_rebuilt('person_id', ref('int_persons_this_run')) }}",
        indexes=postgres_indexes([
            {'columns': ['person_id']},
            {'columns': ['built_at']},
        ]),
    )
}}

-- depends_on: {{ ref('int_persons_this_run') }}

{% set max_steps = var('funnel_max_steps', 10) | int %}

with

{% if is_incremental() %}

step_events as (

    -- A semi-join: PostgreSQL reads the persons' rows by the person_id index.
    select *
    from {{ ref('int_funnel_events_matched') }}
    where person_id in (select person_id from {{ ref('int_persons_this_run') }})

),

{% else %}

step_events as (

    select * from {{ ref('int_funnel_events_matched') }}

),

{% endif %}

{% for step in range(1, max_steps + 1) %}

step_{{ step }}_candidates as (

    {% if step == 1 -%}
    select
        step_events.*,
        step_events.occurred_at as entered_at,
        cast(null as timestamp with time zone) as previous_reached_at,
        row_number() over (
            partition by step_events.funnel_name, step_events.person_id
            order by step_events.occurred_at, step_events.event_id
        ) as candidate_rank
    from step_events
    where step_events.step_index = 1
    {%- else -%}
    select
        step_events.*,
        previous.entered_at,
        previous.reached_at as previous_reached_at,
        row_number() over (
            partition by step_events.funnel_name, step_events.person_id
            order by step_events.occurred_at, step_events.event_id
        ) as candidate_rank
    from step_events
    inner join step_{{ step - 1 }} as previous
        on step_events.funnel_name = previous.funnel_name
        and step_events.person_id = previous.person_id
    where step_events.step_index = {{ step }}
        and step_events.occurred_at >= previous.reached_at
        and step_events.event_id <> previous.reached_event_id
        and step_events.occurred_at <= {{ dbt.dateadd('hour', '24 * step_events.conversion_window_days', 'previous.entered_at') }}
    {%- endif %}

),

step_{{ step }} as (

    select
        funnel_name,
        person_id,
        step_index,
        step_name,
        entered_at,
        occurred_at as reached_at,
        event_id as reached_event_id,
        product as reached_product,
        previous_reached_at
    from step_{{ step }}_candidates
    where candidate_rank = 1

),

{% endfor %}

reached as (

    {% for step in range(1, max_steps + 1) -%}
    select * from step_{{ step }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

steps as (

    -- The seed's strings are varchar on PostgreSQL, the contract's text: cast, so that an
    -- incremental run's rows have the table's types.
    select
        cast(funnel_name as {{ dbt.type_string() }}) as funnel_name,
        person_id,
        step_index,
        cast(step_name as {{ dbt.type_string() }}) as step_name,
        entered_at,
        {{ utc_date('entered_at') }} as cohort_date,
        reached_at,
        reached_event_id,
        reached_product,
        cast({{ seconds_between('previous_reached_at', 'reached_at') }} as double precision) as seconds_from_previous
    from reached

),

final as (

    select
        *,
        {{ run_stamp() }} as built_at
    from steps

)

select * from final
