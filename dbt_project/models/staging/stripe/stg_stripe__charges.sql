{#- One row per Stripe charge (raw_stripe.charges is upserted on id, so a re-loaded charge is
    one row holding its latest state). Money in major units with each currency's exponent.
    Current API versions put no `invoice` on a charge: our checkout writes the links into the
    charge's metadata (strings) — `metadata.invoice` (the invoice it pays), `metadata.price` and
    `metadata.product` (what a one-off purchase bought). This is the one model that reads them. -#}

with

source as (

    select * from {{ source('raw_stripe', 'charges') }}

),

renamed as (

    select
        id as charge_id,
        -- `customer` and `invoice` are expandable: an id, or the object with its id.
        coalesce(
            {{ json_text('payload', ['customer', 'id']) }},
            {{ json_text('payload', ['customer']) }}
        ) as customer_id,
        coalesce(
            {{ json_text('payload', ['invoice', 'id']) }},
            {{ json_text('payload', ['invoice']) }},
            nullif({{ json_text('payload', ['metadata', 'invoice']) }}, '')
        ) as invoice_id,
        nullif({{ json_text('payload', ['metadata', 'price']) }}, '') as price_id,
        nullif({{ json_text('payload', ['metadata', 'product']) }}, '') as product_id,
        coalesce(
            {{ json_text('payload', ['payment_intent', 'id']) }},
            {{ json_text('payload', ['payment_intent']) }}
        ) as payment_intent_id,
        lower({{ json_text('payload', ['currency']) }}) as currency,
        {{ json_text('payload', ['amount']) }} as amount_minor,
        {{ json_text('payload', ['amount_refunded']) }} as amount_refunded_minor,
        {{ json_text('payload', ['status']) }} as status,
        {{ json_text('payload', ['paid']) }} = 'true' as is_paid,
        {{ json_text('payload', ['refunded']) }} = 'true' as is_refunded,
        {{ json_text('payload', ['captured']) }} = 'true' as is_captured,
        {{ normalized_email(json_text('payload', ['billing_details', 'email'])) }} as billing_email,
        {{ normalized_email(json_text('payload', ['receipt_email'])) }} as receipt_email,
        coalesce(created, {{ from_unix_seconds(json_text('payload', ['created'])) }}) as created_at,
        _account_id as account_id,
        _loaded_at as loaded_at

    from source

),

final as (

    select
        charge_id,
        customer_id,
        invoice_id,
        price_id,
        product_id,
        payment_intent_id,
        {{ to_major_units('amount_minor', 'currency') }} as amount,
        {{ to_major_units('coalesce(amount_refunded_minor, \'0\')', 'currency') }} as amount_refunded,
        currency,
        status,
        coalesce(is_paid, false) as is_paid,
        coalesce(is_refunded, false) as is_refunded,
        coalesce(is_captured, false) as is_captured,
        coalesce(receipt_email, billing_email) as email,
        created_at,
        account_id,
        loaded_at

    from renamed

)

select * from final
