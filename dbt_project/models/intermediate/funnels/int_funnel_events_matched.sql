{#- One row per funnel step × event that could reach it (docs/METRICS.md, Funnels): the step's event name,
    from the step's product (or any), carrying one of the step's channels (or any).
    Incremental (delete+insert by event_id): a run re-matches the events of
    int_events_this_run. What matches an event (name, product, channel)
    never changes; its person does, when it is re-identified. -#}

{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=postgres_indexes([
            {'columns': ['event_id']},
            {'columns': ['person_id']},
        ]),
    )
}}

-- depends_on: {{ ref('int_events_this_run') }}

with

steps as (

    select * from {{ ref('funnel_steps') }}

),

events as (

    select
        event_id,
        person_id,
        event_name,
        product,
        channel,
        occurred_at
    {% if is_incremental() -%}
    from {{ ref('int_events_this_run') }}
    {%- else -%}
    from {{ ref('fct_events') }}
    {%- endif %}
    where person_id is not null

),

final as (

    select
        steps.funnel_name,
        steps.step_index,
        steps.step_name,
        steps.conversion_window_days,
        events.person_id,
        events.event_id,
        events.product,
        events.occurred_at,
        {{ run_stamp() }} as built_at
    from events
    inner join steps
        on events.event_name = steps.event_name
        and (steps.product = 'any' or events.product = steps.product)
        and (
            steps.channels = 'any'
            or {{ dbt.concat(["'|'", 'steps.channels', "'|'"]) }}
                like {{ dbt.concat(["'%|'", 'events.channel', "'|%'"]) }}
        )

)

select * from final
