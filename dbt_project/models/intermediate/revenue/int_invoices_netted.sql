{#- One row per Stripe invoice: what was paid, what was refunded of the charges that paid it and
    the rest, in major units of its currency. A charge pays an invoice when the charge names it
    (its `invoice` field or `metadata.invoice`) or the invoice names the charge (older API
    versions); the refunds of each charge follow int_charges_netted. -#}

with

invoices as (

    select * from {{ ref('stg_stripe__invoices') }}

),

charges_net as (

    select * from {{ ref('int_charges_netted') }}

),

invoice_charges as (

    select
        invoice_id,
        charge_id
    from charges_net
    where invoice_id is not null

    union

    select
        invoice_id,
        charge_id
    from invoices
    where charge_id is not null

),

refunds_per_invoice as (

    select
        invoice_charges.invoice_id,
        sum(charges_net.refunded_amount) as refunded_amount,
        max(charges_net.last_refunded_at) as last_refunded_at
    from invoice_charges
    inner join charges_net
        on invoice_charges.charge_id = charges_net.charge_id
    group by invoice_charges.invoice_id

),

final as (

    select
        invoices.invoice_id,
        invoices.currency,
        invoices.amount_paid,
        cast(coalesce(refunds_per_invoice.refunded_amount, 0) as decimal(38, 3)) as refunded_amount,
        cast(
            invoices.amount_paid - coalesce(refunds_per_invoice.refunded_amount, 0)
            as decimal(38, 3)
        ) as net_amount,
        refunds_per_invoice.last_refunded_at
    from invoices
    left join refunds_per_invoice
        on invoices.invoice_id = refunds_per_invoice.invoice_id

)

select * from final
