-- docs/METRICS.md, Attribution: no touchpoint after its conversion or more than the lookback before it.
select *
from {{ latest_run_rows(ref('fct_attribution_credits')) }}
where touchpoint_at > conversion_at
    or touchpoint_at < {{ dbt.dateadd('hour', -24 * var('attribution_lookback_days'), 'conversion_at') }}
