{#- The conversions whose credits this run's changes can have changed, which
    fct_attribution_credits recomputes whole, with their dates, which the daily credit marts
    recompute (a conversion keeps its date). A conversion's credits depend on its value,
    currency and person and on that person's channel events within the lookback before it
    (docs/METRICS.md, Attribution), so they are:
    - those int_conversions_valued wrote since the models downstream last applied the changes
      (new, revalued by Stripe, or re-identified);
    - those of a person with a changed channel event at most the lookback before them
      (boundary included);
    - the conversions of a regrouped person (int_persons_this_run), which may have held a
      touchpoint that has left the person since, from the earliest changed anonymous channel
      event to the lookback after the latest: a touchpoint that left its person is such an
      event, credited only to conversions at most the lookback after it. -#}

with

changed_touchpoints as (

    select
        person_id,
        occurred_at
    from {{ ref('int_events_this_run') }}
    where channel is not null
        and person_id is not null

),

-- The span of conversions a touchpoint leaving its person can have been credited to.
reidentified_touchpoint_span as (

    select
        min(occurred_at) as earliest_at,
        max(occurred_at) as latest_at
    from {{ ref('int_events_this_run') }}
    where channel is not null
        and user_id is null
        and anonymous_id is not null

),

conversions as (

    select
        conversion_event_id,
        conversion_at,
        person_id,
        built_at
    from {{ ref('int_conversions_valued') }}

),

recomputed as (

    select conversion_event_id
    from conversions
    where built_at > (select changed_after from {{ ref('int_run_limits') }})

    union

    -- Semi-joins, not joins: PostgreSQL then estimates at most the table's rows, and reads
    -- the persons' conversions by their index.
    select conversions.conversion_event_id
    from conversions
    where conversions.person_id in (select person_id from changed_touchpoints)
        and exists (
            select 1
            from changed_touchpoints
            where changed_touchpoints.person_id = conversions.person_id
                and changed_touchpoints.occurred_at <= conversions.conversion_at
                and changed_touchpoints.occurred_at >= {{ dbt.dateadd('hour', -24 * var('attribution_lookback_days'), 'conversions.conversion_at') }}
        )

    union

    select conversions.conversion_event_id
    from conversions
    cross join reidentified_touchpoint_span
    where conversions.person_id in (
        select person_id from {{ ref('int_persons_this_run') }}
        where regrouped
    )
        and conversions.conversion_at >= reidentified_touchpoint_span.earliest_at
        and conversions.conversion_at <= {{ dbt.dateadd('hour', 24 * var('attribution_lookback_days'), 'reidentified_touchpoint_span.latest_at') }}

)

select
    conversions.conversion_event_id,
    {{ utc_date('conversions.conversion_at') }} as conversion_date
from conversions
where conversions.conversion_event_id in (select conversion_event_id from recomputed)
