-- One row per successful Stripe charge: the ACD product it pays for (product metadata
-- `acd_product` of the invoice's first line, or of a one-off charge's `metadata.price` /
-- `metadata.product`), and its amount net of refunds, in major units.

with charges as (

    select * from {{ ref('stg_stripe__charges') }}

),

line_items as (

    select * from {{ ref('stg_stripe__invoice_line_items') }}

),

prices as (

    select * from {{ ref('stg_stripe__prices') }}

),

products as (

    select * from {{ ref('stg_stripe__products') }}

),

refunds as (

    select * from {{ ref('stg_stripe__refunds') }}

),

refunds_by_charge as (

    select
        charge_id,
        sum(amount) as refunded_amount
    from refunds
    where status is null or status in ('succeeded', 'pending')
    group by charge_id

),

invoice_products as (

    select
        line_items.invoice_id,
        min(coalesce(products.acd_product, prices.acd_product)) as acd_product
    from line_items
    left join prices
        on line_items.price_id = prices.price_id
    left join products
        on coalesce(line_items.product_id, prices.product_id) = products.product_id
    group by line_items.invoice_id

),

final as (

    select
        charges.charge_id,
        charges.customer_id,
        charges.created_at as charged_at,
        {{ utc_date('charges.created_at') }} as charged_date,
        coalesce(
            invoice_products.acd_product,
            one_off_products.acd_product,
            one_off_prices.acd_product,
            'unknown'
        ) as product,
        upper(charges.currency) as currency,
        charges.amount,
        case
            when coalesce(refunds_by_charge.refunded_amount, 0) > charges.amount_refunded
                then refunds_by_charge.refunded_amount
            else charges.amount_refunded
        end as refunded_amount
    from charges
    left join invoice_products
        on charges.invoice_id = invoice_products.invoice_id
    left join prices as one_off_prices
        on charges.price_id = one_off_prices.price_id
    left join products as one_off_products
        on coalesce(charges.product_id, one_off_prices.product_id) = one_off_products.product_id
    left join refunds_by_charge
        on charges.charge_id = refunds_by_charge.charge_id
    where charges.is_paid
        and charges.status = 'succeeded'

)

select
    *,
    amount - refunded_amount as net_amount
from final
