with mrr as (

    select * from {{ ref('fct_mrr') }}

),

by_month as (

    select
        month,
        product,
        currency,
        sum(case when movement = 'new' then mrr_change else 0 end) as new_mrr,
        sum(case when movement = 'expansion' then mrr_change else 0 end) as expansion_mrr,
        sum(case when movement = 'contraction' then -mrr_change else 0 end) as contraction_mrr,
        sum(case when movement = 'churned' then -mrr_change else 0 end) as churned_mrr,
        sum(case when movement = 'reactivation' then mrr_change else 0 end) as reactivation_mrr,
        sum(case when movement = 'unchanged' then mrr else 0 end) as unchanged_mrr,
        sum(mrr) as ending_mrr,
        sum(case when movement <> 'churned' then 1 else 0 end) as active_subscriptions,
        sum(case when movement = 'new' then 1 else 0 end) as new_subscriptions,
        sum(case when movement = 'churned' then 1 else 0 end) as churned_subscriptions
    from mrr
    group by month, product, currency

),

final as (

    select
        cast(by_month.month as date) as month,
        cast(by_month.product as {{ dbt.type_string() }}) as product,
        cast(by_month.currency as {{ dbt.type_string() }}) as currency,
        cast(coalesce(previous_month.ending_mrr, 0) as numeric(38, 6)) as starting_mrr,
        cast(by_month.new_mrr as numeric(38, 6)) as new_mrr,
        cast(by_month.expansion_mrr as numeric(38, 6)) as expansion_mrr,
        cast(by_month.contraction_mrr as numeric(38, 6)) as contraction_mrr,
        cast(by_month.churned_mrr as numeric(38, 6)) as churned_mrr,
        cast(by_month.reactivation_mrr as numeric(38, 6)) as reactivation_mrr,
        cast(by_month.unchanged_mrr as numeric(38, 6)) as unchanged_mrr,
        cast(by_month.ending_mrr as numeric(38, 6)) as ending_mrr,
        cast(by_month.active_subscriptions as bigint) as active_subscriptions,
        cast(by_month.new_subscriptions as bigint) as new_subscriptions,
        cast(by_month.churned_subscriptions as bigint) as churned_subscriptions
    from by_month
    left join by_month as previous_month
        on by_month.product = previous_month.product
        and by_month.currency = previous_month.currency
        and previous_month.month = cast({{ dbt.dateadd('month', -1, 'by_month.month') }} as date)

)

select * from final
