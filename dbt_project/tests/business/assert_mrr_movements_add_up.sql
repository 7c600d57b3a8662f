-- docs/METRICS.md, Revenue: for every month × product × currency, the previous month's ending MRR plus new,
-- expansion and reactivation, minus contraction and churn, is the ending MRR (to 1e-6).

with movements as (

    select * from {{ ref('rpt_mrr_movements') }}

),

fct as (

    select
        month,
        product,
        currency,
        sum(mrr) as ending_from_subscriptions
    from {{ ref('fct_mrr') }}
    group by month, product, currency

)

select
    movements.*,
    fct.ending_from_subscriptions
from movements
inner join fct
    on movements.month = fct.month
    and movements.product = fct.product
    and movements.currency = fct.currency
where abs(
        movements.starting_mrr
        + movements.new_mrr
        + movements.expansion_mrr
        + movements.reactivation_mrr
        - movements.contraction_mrr
        - movements.churned_mrr
        - fct.ending_from_subscriptions
    ) > 0.000001
    or abs(movements.ending_mrr - fct.ending_from_subscriptions) > 0.000001
