-- One row per successful Stripe charge: the ACD product it pays for (product metadata
-- `acd_product` of the invoice's first line, or of a one-off charge's `metadata.price` /
-- `metadata.product`), and its amount net of refunds (int_charges_netted), in major
-- units.

with charges as (

    select * from {{ ref('stg_stripe__charges') }}

),

charges_net as (

    select * from {{ ref('int_charges_netted') }}

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
        charges_net.amount,
        charges_net.refunded_amount,
        charges_net.net_amount
    from charges
    inner join charges_net
        on charges.charge_id = charges_net.charge_id
    left join invoice_products
        on charges.invoice_id = invoice_products.invoice_id
    left join prices as one_off_prices
        on charges.price_id = one_off_prices.price_id
    left join products as one_off_products
        on coalesce(charges.product_id, one_off_prices.product_id) = one_off_products.product_id
    where charges.is_paid
        and charges.status = 'succeeded'

)

select * from final
