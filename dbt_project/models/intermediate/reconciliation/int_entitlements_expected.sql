-- One row per paid bundle purchase × app listed in its `bundle_products` metadata
-- (`[{"app": …, "product_id": …}]`, a JSON string inside Stripe metadata): an entitlement that
-- should exist in shared_entitlements (docs/METRICS.md, Entitlement reconciliation).

with purchases as (

    select * from {{ ref('int_purchases_unioned') }}
    where is_paid
        and expects_entitlements
        and bundle_products_json is not null

),

parsed as (

    select
        *,
        {{ parse_json_string('bundle_products_json') }} as bundle_products
    from purchases

),

listed as (

    select
        parsed.purchase_id,
        parsed.purchase_type,
        parsed.paying_charge_id,
        parsed.customer_id,
        parsed.amount,
        parsed.currency,
        parsed.paid_at,
        parsed.is_fully_refunded,
        parsed.last_refunded_at,
        {{ json_element_text('bundle_app.value', 'app') }} as app,
        {{ json_element_text('bundle_app.value', 'product_id') }} as bundle_product_id
    from parsed,
        {{ json_array_elements('parsed.bundle_products', 'bundle_app') }}

),

final as (

    select distinct * from listed
    where app is not null

)

select * from final
