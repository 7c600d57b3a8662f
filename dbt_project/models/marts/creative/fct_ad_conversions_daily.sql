{#- One row per platform × ad × conversion UTC date × currency: warehouse conversions credited
    by the `last_touch` model to a touchpoint of that ad (docs/METRICS.md, Creative performance; the ad is the touchpoint's
    `utm_content`, the platform its channel).
    Incremental (delete+insert by conversion_date) like fct_channel_credits_daily: a run
    recomputes, from all of their credits, the dates of the conversions of
    int_conversions_this_run (rebuilt from every credit, it took 3.4–3.9 s of a 10M-event
    incremental build). The post-hook deletes the rows of a date whose last ad credit moved
    elsewhere. -#}

{{
    config(
        materialized='incremental',
        unique_key='conversion_date',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ delete_rows_not_rebuilt('conversion_date', ref('int_conversions_this_run')) }}",
    )
}}

-- depends_on: {{ ref('int_conversions_this_run') }}

with

credits as (

    select * from {{ ref('fct_attribution_credits') }}
    where model = 'last_touch'
        {% if is_incremental() -%}
        and conversion_date in (select conversion_date from {{ ref('int_conversions_this_run') }})
        {%- endif %}

),

ad_conversions as (

    select
        channel as platform,
        ad_id,
        conversion_date,
        upper(currency) as currency,
        sum(credit) as conversions,
        -- typed as its contract (PostgreSQL's sum has no scale, and an incremental run's
        -- table must match the mart's)
        cast(sum(attributed_value) as decimal(38, 6)) as conversion_value
    from credits
    where channel in ('meta', 'tiktok')
        and ad_id is not null
    group by
        channel,
        ad_id,
        conversion_date,
        upper(currency)

),

final as (

    select
        *,
        {{ run_stamp() }} as built_at
    from ad_conversions

)

select * from final
