-- docs/METRICS.md, Attribution: for every conversion and model the attributed values sum to the conversion value.
select
    conversion_event_id,
    model,
    sum(attributed_value) as total_attributed,
    max(conversion_value) as conversion_value
from {{ latest_run_rows(ref('fct_attribution_credits')) }}
group by
    conversion_event_id,
    model
having sum(attributed_value) <> max(conversion_value)
    or min(conversion_value) <> max(conversion_value)
