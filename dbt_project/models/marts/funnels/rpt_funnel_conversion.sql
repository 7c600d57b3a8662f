{#- One row per funnel × cohort date (UTC date of entry) × step (docs/METRICS.md, Funnels), every configured
    step of every cohort included (persons 0 when nobody reached it). -#}

with

steps as (

    select
        funnel_name,
        step_index,
        step_name
    from {{ ref('funnel_steps') }}

),

funnel_steps as (

    select * from {{ ref('fct_funnel_steps') }}

),

cohorts as (

    select distinct
        funnel_name,
        cohort_date
    from funnel_steps

),

reached as (

    select
        funnel_name,
        cohort_date,
        step_index,
        count(*) as persons,
        percentile_cont(0.5) within group (order by seconds_from_previous) as median_seconds_from_previous
    from funnel_steps
    group by
        funnel_name,
        cohort_date,
        step_index

),

grid as (

    select
        cohorts.funnel_name,
        cohorts.cohort_date,
        steps.step_index,
        steps.step_name,
        coalesce(reached.persons, 0) as persons,
        reached.median_seconds_from_previous
    from cohorts
    inner join steps
        on cohorts.funnel_name = steps.funnel_name
    left join reached
        on cohorts.funnel_name = reached.funnel_name
        and cohorts.cohort_date = reached.cohort_date
        and steps.step_index = reached.step_index

),

with_previous as (

    select
        *,
        first_value(persons) over (
            partition by funnel_name, cohort_date
            order by step_index
        ) as start_persons,
        lag(persons) over (
            partition by funnel_name, cohort_date
            order by step_index
        ) as previous_persons
    from grid

),

final as (

    select
        funnel_name,
        cohort_date,
        step_index,
        step_name,
        cast(persons as bigint) as persons,
        cast(persons as double precision) / nullif(start_persons, 0) as conversion_from_start,
        cast(persons as double precision) / nullif(coalesce(previous_persons, persons), 0) as conversion_from_previous,
        cast(median_seconds_from_previous as double precision) as median_seconds_from_previous
    from with_previous

)

select * from final
