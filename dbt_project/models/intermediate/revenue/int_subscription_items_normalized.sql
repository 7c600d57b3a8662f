-- One row per Stripe subscription × version × item: the item's monthly recurring amount in
-- major units (docs/METRICS.md, Revenue): quantity × unit amount, normalized to a month (year ÷ 12,
-- week × 52 ÷ 12, day × 365 ÷ 12) over a billing period of `interval_count` intervals, and
-- divided by 10^exponent of the currency (JPY 0, KWD 3, most 2).

with item_versions as (

    select * from {{ ref('int_subscription_items_versioned') }}

),

final as (

    select
        *,
        cast(unit_amount_minor as double precision)
            * quantity
            * case recurring_interval
                when 'year' then 1
                when 'month' then 12
                when 'week' then 52
                when 'day' then 365
            end
            / (12.0 * coalesce(nullif(recurring_interval_count, 0), 1))
            / case {{ currency_exponent('currency') }}
                when 0 then 1.0
                when 3 then 1000.0
                else 100.0
            end as monthly_amount
    from item_versions

)

select * from final
