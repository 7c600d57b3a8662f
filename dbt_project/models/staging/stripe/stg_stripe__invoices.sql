{#- One row per Stripe invoice (upserted on id). Money in major units. The subscription is
    top-level in older API versions and under parent.subscription_details in newer ones. -#}

with

source as (

    select * from {{ source('raw_stripe', 'invoices') }}

),

renamed as (

    select
        id as invoice_id,
        coalesce(
            {{ json_text('payload', ['customer', 'id']) }},
            {{ json_text('payload', ['customer']) }}
        ) as customer_id,
        coalesce(
            {{ json_text('payload', ['subscription', 'id']) }},
            {{ json_text('payload', ['subscription']) }},
            {{ json_text('payload', ['parent', 'subscription_details', 'subscription', 'id']) }},
            {{ json_text('payload', ['parent', 'subscription_details', 'subscription']) }}
        ) as subscription_id,
        coalesce(
            {{ json_text('payload', ['charge', 'id']) }},
            {{ json_text('payload', ['charge']) }}
        ) as charge_id,
        {{ normalized_email(json_text('payload', ['customer_email'])) }} as customer_email,
        {{ json_text('payload', ['status']) }} as status,
        {{ json_text('payload', ['billing_reason']) }} as billing_reason,
        lower({{ json_text('payload', ['currency']) }}) as currency,
        {{ json_text('payload', ['amount_paid']) }} as amount_paid_minor,
        {{ json_text('payload', ['amount_due']) }} as amount_due_minor,
        {{ json_text('payload', ['total']) }} as total_minor,
        coalesce(created, {{ from_unix_seconds(json_text('payload', ['created'])) }}) as created_at,
        {{ from_unix_seconds(json_text('payload', ['status_transitions', 'paid_at'])) }} as paid_at,
        {{ from_unix_seconds(json_text('payload', ['period_start'])) }} as period_start_at,
        {{ from_unix_seconds(json_text('payload', ['period_end'])) }} as period_end_at,
        _account_id as account_id,
        _loaded_at as loaded_at

    from source

),

final as (

    select
        invoice_id,
        customer_id,
        subscription_id,
        charge_id,
        customer_email,
        status,
        billing_reason,
        {{ to_major_units('amount_paid_minor', 'currency') }} as amount_paid,
        {{ to_major_units('amount_due_minor', 'currency') }} as amount_due,
        {{ to_major_units('total_minor', 'currency') }} as total,
        currency,
        status = 'paid' as is_paid,
        created_at,
        paid_at,
        period_start_at,
        period_end_at,
        account_id,
        loaded_at

    from renamed

)

select * from final
