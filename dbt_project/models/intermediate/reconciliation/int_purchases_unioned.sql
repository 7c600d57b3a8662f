-- One row per Stripe purchase that could carry entitlements: every invoice, and every charge
-- that pays no invoice (a one-off purchase). With its customer, amount (major units), whether
-- it is paid, how much of it was refunded and when, and the `bundle_products` metadata of its
-- price (else its product), still as the JSON text Stripe stores.

with invoices as (

    select * from {{ ref('stg_stripe__invoices') }}

),

line_items as (

    select * from {{ ref('stg_stripe__invoice_line_items') }}

),

charges as (

    select * from {{ ref('stg_stripe__charges') }}

),

charges_net as (

    select * from {{ ref('int_charges_netted') }}

),

invoices_net as (

    select * from {{ ref('int_invoices_netted') }}

),

prices as (

    select * from {{ ref('stg_stripe__prices') }}

),

products as (

    select * from {{ ref('stg_stripe__products') }}

),

charges_linked as (

    select
        charges.*,
        charges.invoice_id as paid_invoice_id,
        charges_net.refunded_amount,
        charges_net.last_refunded_at
    from charges
    inner join charges_net
        on charges.charge_id = charges_net.charge_id

),

-- the bundle of each price: the price's metadata, else its product's
price_bundles as (

    select
        prices.price_id,
        prices.product_id,
        coalesce(prices.bundle_products_json, products.bundle_products_json) as bundle_products_json
    from prices
    left join products
        on prices.product_id = products.product_id

),

invoice_bundles as (

    select
        line_items.invoice_id,
        max(coalesce(
            price_bundles.bundle_products_json,
            line_products.bundle_products_json
        )) as bundle_products_json
    from line_items
    left join price_bundles
        on line_items.price_id = price_bundles.price_id
    left join products as line_products
        on line_items.product_id = line_products.product_id
    group by line_items.invoice_id

),

invoice_payments as (

    select
        paid_invoice_id as invoice_id,
        min(charge_id) as paying_charge_id,
        sum(amount) as charged_amount,
        max(created_at) as charged_at
    from charges_linked
    where paid_invoice_id is not null
        and (is_paid or status = 'succeeded')
    group by paid_invoice_id

),

invoice_purchases as (

    select
        invoices.invoice_id as purchase_id,
        'invoice' as purchase_type,
        invoice_payments.paying_charge_id,
        invoices.subscription_id,
        invoices.customer_id,
        case when invoices.status = 'paid' then invoices.amount_paid else invoices.amount_due end as amount,
        upper(invoices.currency) as currency,
        invoices.status = 'paid' as is_paid,
        coalesce(invoices.paid_at, invoice_payments.charged_at, invoices.created_at) as paid_at,
        coalesce(invoices_net.refunded_amount, 0) as refunded_amount,
        invoices_net.last_refunded_at,
        invoices.created_at,
        invoice_bundles.bundle_products_json,
        -- a subscription expects its entitlements once, from its first invoice
        row_number() over (
            partition by coalesce(invoices.subscription_id, invoices.invoice_id)
            order by invoices.created_at, invoices.invoice_id
        ) = 1 as expects_entitlements
    from invoices
    left join invoice_payments
        on invoices.invoice_id = invoice_payments.invoice_id
    left join invoices_net
        on invoices.invoice_id = invoices_net.invoice_id
    left join invoice_bundles
        on invoices.invoice_id = invoice_bundles.invoice_id

),

charge_purchases as (

    select
        charges_linked.charge_id as purchase_id,
        'charge' as purchase_type,
        charges_linked.charge_id as paying_charge_id,
        cast(null as {{ dbt.type_string() }}) as subscription_id,
        charges_linked.customer_id,
        charges_linked.amount,
        upper(charges_linked.currency) as currency,
        coalesce(charges_linked.is_paid and charges_linked.status = 'succeeded', false) as is_paid,
        charges_linked.created_at as paid_at,
        charges_linked.refunded_amount,
        charges_linked.last_refunded_at,
        charges_linked.created_at,
        coalesce(
            price_bundles.bundle_products_json,
            products.bundle_products_json
        ) as bundle_products_json,
        true as expects_entitlements
    from charges_linked
    left join price_bundles
        on charges_linked.price_id = price_bundles.price_id
    left join products
        on charges_linked.product_id = products.product_id
    where charges_linked.paid_invoice_id is null

),

unioned as (

    select * from invoice_purchases
    union all
    select * from charge_purchases

),

final as (

    select
        *,
        refunded_amount >= amount and amount > 0 as is_fully_refunded
    from unioned

)

select * from final
