-- One row per Stripe subscription × month (first day) in which it is active at month end
-- (docs/METRICS.md, Revenue), with its MRR then: the items of the version in force at that instant.
--
-- "Month end" is the first instant of the next month, or, for the month in progress, the
-- latest instant the Stripe data knows of (`as_of`). Active means: started, not ended
-- (`ended_at`, else `canceled_at` of a canceled subscription), past its trial (a trial is not
-- revenue), and the version in force is not incomplete, incomplete_expired, unpaid or paused.
-- Product and currency are those of the subscription's current object, so that one
-- subscription stays in one product × currency over its life.

with subscriptions as (

    select * from {{ ref('stg_stripe__subscriptions') }}

),

item_mrr as (

    select * from {{ ref('int_subscription_items_normalized') }}

),

current_items as (

    select * from {{ ref('stg_stripe__subscription_items') }}

),

events as (

    select * from {{ ref('stg_stripe__events') }}

),

prices as (

    select * from {{ ref('stg_stripe__prices') }}

),

products as (

    select * from {{ ref('stg_stripe__products') }}

),

as_of as (

    select max(known_at) as as_of_at
    from (
        select max(created_at) as known_at from subscriptions
        union all
        select max(canceled_at) from subscriptions
        union all
        select max(ended_at) from subscriptions
        union all
        select max(current_period_started_at) from subscriptions
        union all
        select max(current_period_started_at) from current_items
        union all
        select max(created_at) from events
    ) as known

),

subscription_bounds as (

    select
        subscription_id,
        customer_id,
        coalesce(started_at, created_at) as started_at,
        trial_ended_at,
        coalesce(ended_at, case when status = 'canceled' then canceled_at end) as ended_at
    from subscriptions

),

digits as (

    select 0 as digit
    union all
    select 1
    union all
    select 2
    union all
    select 3
    union all
    select 4
    union all
    select 5
    union all
    select 6
    union all
    select 7
    union all
    select 8
    union all
    select 9

),

month_offsets as (

    select hundreds.digit * 100 + tens.digit * 10 + ones.digit as month_offset
    from digits as hundreds
    cross join digits as tens
    cross join digits as ones

),

span as (

    select
        cast({{ dbt.date_trunc('month', 'min(subscription_bounds.started_at)') }} as date) as first_month,
        cast({{ dbt.date_trunc('month', 'max(as_of.as_of_at)') }} as date) as last_month
    from subscription_bounds
    cross join as_of

),

months as (

    select
        cast({{ dbt.dateadd('month', 'month_offsets.month_offset', 'span.first_month') }} as date) as month
    from span
    cross join month_offsets
    where month_offsets.month_offset <= {{ dbt.datediff('span.first_month', 'span.last_month', 'month') }}

),

month_instants as (

    select
        months.month,
        case
            when cast({{ dbt.dateadd('month', 1, 'months.month') }} as timestamp with time zone) < as_of.as_of_at
                then cast({{ dbt.dateadd('month', 1, 'months.month') }} as timestamp with time zone)
            else as_of.as_of_at
        end as measured_at
    from months
    cross join as_of

),

active_months as (

    select
        subscription_bounds.subscription_id,
        subscription_bounds.customer_id,
        month_instants.month,
        month_instants.measured_at
    from subscription_bounds
    inner join month_instants
        on subscription_bounds.started_at <= month_instants.measured_at
        and (subscription_bounds.ended_at is null or subscription_bounds.ended_at > month_instants.measured_at)
        and (subscription_bounds.trial_ended_at is null or subscription_bounds.trial_ended_at <= month_instants.measured_at)

),

in_force as (

    select
        active_months.subscription_id,
        active_months.customer_id,
        active_months.month,
        item_mrr.status,
        item_mrr.monthly_amount
    from active_months
    inner join item_mrr
        on active_months.subscription_id = item_mrr.subscription_id
        and active_months.measured_at >= item_mrr.effective_from
        and active_months.measured_at < item_mrr.effective_to

),

subscription_months as (

    select
        subscription_id,
        customer_id,
        month,
        sum(monthly_amount) as mrr
    from in_force
    where status is null
        or status not in ('incomplete', 'incomplete_expired', 'unpaid', 'paused', 'trialing')
    group by subscription_id, customer_id, month

),

-- product and currency of the subscription: its current item with the largest amount
current_items_ranked as (

    select
        item_mrr.subscription_id,
        item_mrr.currency,
        coalesce(
            products.acd_product,
            prices.acd_product,
            'unknown'
        ) as product,
        row_number() over (
            partition by item_mrr.subscription_id
            order by item_mrr.monthly_amount desc, item_mrr.subscription_item_id asc
        ) as item_rank
    from item_mrr
    left join prices
        on item_mrr.price_id = prices.price_id
    left join products
        on coalesce(item_mrr.product_id, prices.product_id) = products.product_id
    where item_mrr.effective_to = cast('9999-12-31 00:00:00+00' as timestamp with time zone)

),

final as (

    select
        subscription_months.subscription_id,
        subscription_months.customer_id,
        subscription_months.month,
        current_items_ranked.product,
        current_items_ranked.currency,
        subscription_months.mrr
    from subscription_months
    inner join current_items_ranked
        on subscription_months.subscription_id = current_items_ranked.subscription_id
        and current_items_ranked.item_rank = 1

)

select * from final
