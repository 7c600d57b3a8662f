-- docs/METRICS.md, Funnels: a reached step k > 1 has its step k − 1, is reached no earlier than it, and
-- within the step's conversion window from entry.
-- Checked for the persons the latest run of fct_funnel_steps wrote: it replaces a person's
-- steps whole, so their rows are all of that run.
with

reached as (

    select * from {{ latest_run_rows(ref('fct_funnel_steps')) }}

),

steps as (

    select * from {{ ref('funnel_steps') }}

)

select
    reached.funnel_name,
    reached.person_id,
    reached.step_index
from reached
inner join steps
    on reached.funnel_name = steps.funnel_name
    and reached.step_index = steps.step_index
left join reached as previous
    on reached.funnel_name = previous.funnel_name
    and reached.person_id = previous.person_id
    and reached.step_index = previous.step_index + 1
where reached.step_index > 1
    and (
        previous.person_id is null
        or reached.reached_at < previous.reached_at
        or reached.reached_event_id = previous.reached_event_id
        or reached.reached_at > {{ dbt.dateadd('hour', '24 * steps.conversion_window_days', 'reached.entered_at') }}
        or reached.entered_at <> previous.entered_at
    )
