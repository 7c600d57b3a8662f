{#- One row per conversion date × attribution model × channel × campaign × currency (SPEC §7.4).
    Spend and ROAS stay null until the ad mart (fct_ad_performance_daily) is wired in. -#}

with

credits as (

    select * from {{ ref('fct_attribution_credits') }}

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
        count(distinct conversion_event_id) as touched_conversions,
        cast(null as decimal(38, 6)) as spend,
        cast(null as double precision) as roas
    from credits
    group by
        conversion_date,
        model,
        channel,
        campaign_id,
        currency

)

select * from final
