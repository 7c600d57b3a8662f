-- SPEC §7.4: every conversion has rows in all five models, and `direct` only when it has no touchpoint.
with

conversions as (

    select event_id
    from {{ ref('fct_events') }}
    where event_name in (
        {%- for name in var('conversion_event_names') %}
        '{{ name }}'{{ ',' if not loop.last }}
        {%- endfor %}
    )

),

per_conversion as (

    select
        conversion_event_id,
        count(distinct model) as models,
        sum(case when channel = 'direct' then 1 else 0 end) as direct_rows,
        sum(case when channel <> 'direct' then 1 else 0 end) as touchpoint_rows
    from {{ ref('fct_attribution_credits') }}
    group by conversion_event_id

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
