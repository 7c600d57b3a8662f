{#- One row per funnel step × event that could reach it (SPEC §7.3): the step's event name,
    from the step's product (or any), carrying one of the step's channels (or any). -#}

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
    from {{ ref('fct_events') }}
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
        events.occurred_at
    from events
    inner join steps
        on events.event_name = steps.event_name
        and (steps.product = 'any' or steps.product = events.product)
        and (
            steps.channels = 'any'
            or {{ dbt.concat(["'|'", 'steps.channels', "'|'"]) }}
                like {{ dbt.concat(["'%|'", 'events.channel', "'|%'"]) }}
        )

)

select * from final
