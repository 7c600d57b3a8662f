{#- One row per conversion date × attribution model × channel × campaign × currency: the credits
    of fct_attribution_credits summed, which rpt_channel_attribution joins with the ad spend.
    Incremental (delete+insert by conversion_date): a run recomputes, from all of their credits,
    the dates of the conversions of int_conversions_this_run. fct_attribution_credits replaces
    all the rows of those conversions, and a conversion keeps its date, so every date whose
    sums changed is among them. -#}

{{
    config(
        materialized='incremental',
        unique_key='conversion_date',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

-- depends_on: {{ ref('int_conversions_this_run') }}

with

credits as (

    select * from {{ ref('fct_attribution_credits') }}
    {% if is_incremental() %}
    where conversion_date in (select conversion_date from {{ ref('int_conversions_this_run') }})
    {% endif %}

),

final as (

    select
        conversion_date,
        model,
        channel,
        campaign_id,
        currency,
        cast(sum(credit) as double precision) as conversions,
        cast(sum(attributed_value) as decimal(38, 6)) as attributed_value,
        cast(count(distinct conversion_event_id) as bigint) as touched_conversions,
        {{ run_stamp() }} as built_at
    from credits
    group by
        conversion_date,
        model,
        channel,
        campaign_id,
        currency

)

select * from final
