{#- One row per Stripe charge: its amount, what was refunded of it and the rest (docs/METRICS.md,
    Attribution and Unified), in major units of its currency. The one home of the refund rule:
    refunds are the larger of the charge's own `amount_refunded` and the sum of its refund
    objects that count (either can be the newer), and a refund object counts unless Stripe says
    it returned no money: `failed`, `canceled` and `requires_action` do not count, `succeeded`,
    `pending` and a null status do (DECISIONLOG.md, "Refunds"). `net_amount` is 0 for a charge
    that is not paid. -#}

with

charges as (

    select * from {{ ref('stg_stripe__charges') }}

),

refunds as (

    select * from {{ ref('stg_stripe__refunds') }}

),

counted_refunds as (

    select
        charge_id,
        sum(amount) as refunded_amount,
        max(created_at) as last_refunded_at
    from refunds
    where status is null
        or status in ('succeeded', 'pending')
    group by charge_id

),

refunded as (

    select
        charges.charge_id,
        cast(
            case
                when coalesce(counted_refunds.refunded_amount, 0) > charges.amount_refunded
                    then counted_refunds.refunded_amount
                else charges.amount_refunded
            end
            as decimal(38, 3)
        ) as refunded_amount,
        counted_refunds.last_refunded_at
    from charges
    left join counted_refunds
        on charges.charge_id = counted_refunds.charge_id

),

final as (

    select
        charges.charge_id,
        charges.invoice_id,
        charges.customer_id,
        charges.currency,
        charges.status,
        charges.is_paid,
        charges.created_at,
        charges.amount,
        refunded.refunded_amount,
        cast(
            case
                when charges.is_paid then charges.amount - refunded.refunded_amount
                else 0
            end
            as decimal(38, 3)
        ) as net_amount,
        refunded.last_refunded_at
    from charges
    inner join refunded
        on charges.charge_id = refunded.charge_id

)

select * from final
