-- docs/METRICS.md, Attribution: for every conversion and model the credits sum to 1.
select
    conversion_event_id,
    model,
    sum(credit) as total_credit
from {{ latest_run_rows(ref('fct_attribution_credits')) }}
group by
    conversion_event_id,
    model
having abs(sum(credit) - 1) > 0.000000001
