-- docs/METRICS.md, Attribution: every conversion has rows in all five models, and `direct` only when it has no touchpoint.
-- Checked for the conversions the latest runs of fct_events and fct_attribution_credits wrote.
with

conversions as (

    select event_id
    from {{ latest_run_rows(ref('fct_events')) }}
    where event_name in (
        {%- for name in var('conversion_event_names') %}
        '{{ name }}'{{ ',' if not loop.last }}
        {%- endfor %}
    )

    union

    select conversion_event_id as event_id
    from {{ latest_run_rows(ref('fct_attribution_credits')) }}

),

per_conversion as (

    select
        credits.conversion_event_id,
        count(distinct credits.model) as models,
        sum(case when credits.channel = 'direct' then 1 else 0 end) as direct_rows,
        sum(case when credits.channel <> 'direct' then 1 else 0 end) as touchpoint_rows
    from {{ ref('fct_attribution_credits') }} as credits
    inner join conversions
        on credits.conversion_event_id = conversions.event_id
    group by credits.conversion_event_id

)

select
    conversions.event_id,
    per_conversion.models,
    per_conversion.direct_rows,
    per_conversion.touchpoint_rows
from conversions
left join per_conversion
    on conversions.event_id = per_conversion.conversion_event_id
where per_conversion.conversion_event_id is null
    or per_conversion.models <> 5
    or (per_conversion.direct_rows > 0 and per_conversion.touchpoint_rows > 0)
    or per_conversion.direct_rows not in (0, 5)
