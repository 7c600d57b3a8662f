with subscription_months as (

    select * from {{ ref('int_subscription_months_valued') }}

),

-- the last month the Stripe data covers: churn rows are not written past it
last_month as (

    select max(month) as month from subscription_months

),

-- each subscription's first and last active month
subscription_spans as (

    select
        subscription_id,
        customer_id,
        product,
        min(month) as first_month,
        max(month) as last_month
    from subscription_months
    group by subscription_id, customer_id, product

),

-- subscriptions that start after another subscription of the same customer to the same
-- product had ended: the customer comes back (cancel, then subscribe again)
resubscriptions as (

    select
        started.subscription_id,
        count(*) as ended_before
    from subscription_spans as started
    inner join subscription_spans as ended
        on started.customer_id = ended.customer_id
        and started.product = ended.product
        and started.subscription_id <> ended.subscription_id
        and started.first_month > ended.last_month
    group by started.subscription_id

),

with_neighbours as (

    select
        current_month.*,
        previous_month.mrr as previous_mrr,
        next_month.subscription_id is not null as is_active_next_month,
        row_number() over (
            partition by current_month.subscription_id
            order by current_month.month
        ) - 1 as earlier_active_months,
        resubscriptions.subscription_id is not null as is_resubscription
    from subscription_months as current_month
    left join subscription_months as previous_month
        on current_month.subscription_id = previous_month.subscription_id
        and previous_month.month = cast({{ dbt.dateadd('month', -1, 'current_month.month') }} as date)
    left join subscription_months as next_month
        on current_month.subscription_id = next_month.subscription_id
        and next_month.month = cast({{ dbt.dateadd('month', 1, 'current_month.month') }} as date)
    left join resubscriptions
        on current_month.subscription_id = resubscriptions.subscription_id

),

active_rows as (

    select
        subscription_id,
        customer_id,
        month,
        product,
        currency,
        mrr,
        coalesce(previous_mrr, 0) as previous_mrr,
        case
            when previous_mrr is not null and mrr > previous_mrr then 'expansion'
            when previous_mrr is not null and mrr < previous_mrr then 'contraction'
            when previous_mrr is not null then 'unchanged'
            -- active before, then not: back again (the same subscription, or the same
            -- customer's new subscription to the product after a gap)
            when earlier_active_months > 0 then 'reactivation'
            -- first month of a subscription that replaces an ended one of the customer
            when is_resubscription then 'reactivation'
            else 'new'
        end as movement
    from with_neighbours

),

churned_rows as (

    select
        with_neighbours.subscription_id,
        with_neighbours.customer_id,
        cast({{ dbt.dateadd('month', 1, 'with_neighbours.month') }} as date) as month,
        with_neighbours.product,
        with_neighbours.currency,
        0 as mrr,
        with_neighbours.mrr as previous_mrr,
        'churned' as movement
    from with_neighbours
    cross join last_month
    where not with_neighbours.is_active_next_month
        and with_neighbours.month < last_month.month

),

unioned as (

    select * from active_rows
    union all
    select * from churned_rows

),

final as (

    select
        cast(subscription_id as {{ dbt.type_string() }}) as subscription_id,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(month as date) as month,
        cast(product as {{ dbt.type_string() }}) as product,
        cast(upper(currency) as {{ dbt.type_string() }}) as currency,
        cast(mrr as numeric(38, 6)) as mrr,
        cast(previous_mrr as numeric(38, 6)) as previous_mrr,
        cast(mrr as numeric(38, 6)) - cast(previous_mrr as numeric(38, 6)) as mrr_change,
        cast(movement as {{ dbt.type_string() }}) as movement
    from unioned

)

select * from final
