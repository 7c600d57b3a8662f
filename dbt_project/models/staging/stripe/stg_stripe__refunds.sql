{#- One row per Stripe refund (upserted on id). Money in major units. -#}

with

source as (

    select * from {{ source('raw_stripe', 'refunds') }}

),

renamed as (

    select
        id as refund_id,
        coalesce(
            {{ json_text('payload', ['charge', 'id']) }},
            {{ json_text('payload', ['charge']) }}
        ) as charge_id,
        coalesce(
            {{ json_text('payload', ['payment_intent', 'id']) }},
            {{ json_text('payload', ['payment_intent']) }}
        ) as payment_intent_id,
        lower({{ json_text('payload', ['currency']) }}) as currency,
        {{ json_text('payload', ['amount']) }} as amount_minor,
        {{ json_text('payload', ['status']) }} as status,
        {{ json_text('payload', ['reason']) }} as reason,
        coalesce(created, {{ from_unix_seconds(json_text('payload', ['created'])) }}) as created_at,
        _account_id as account_id,
        _loaded_at as loaded_at

    from source

),

final as (

    select
        refund_id,
        charge_id,
        payment_intent_id,
        {{ to_major_units('amount_minor', 'currency') }} as amount,
        currency,
        status,
        reason,
        created_at,
        account_id,
        loaded_at

    from renamed

)

select * from final
