-- One row per platform × ad × conversion UTC date × currency: warehouse conversions credited
-- by the `last_touch` model to a touchpoint of that ad (SPEC §7.6; the ad is the touchpoint's
-- `utm_content`, the platform its channel).

with credits as (

    select * from {{ ref('fct_attribution_credits') }}

),

final as (

    select
        channel as platform,
        ad_id,
        {{ utc_date('conversion_at') }} as conversion_date,
        upper(currency) as currency,
        sum(credit) as conversions,
        sum(attributed_value) as conversion_value
    from credits
    where model = 'last_touch'
        and channel in ('meta', 'tiktok')
        and ad_id is not null
    group by
        channel,
        ad_id,
        {{ utc_date('conversion_at') }},
        upper(currency)

)

select * from final
