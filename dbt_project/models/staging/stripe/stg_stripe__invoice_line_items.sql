-- One row per line of a Stripe invoice. The price moved from `price` to
-- `pricing.price_details.price` in newer API versions (and was `plan` in old ones): all are
-- read. `amount` is in major units (docs/METRICS.md, Conventions).

with source as (

    select * from {{ source('raw_stripe', 'invoice_line_items') }}

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as invoice_line_item_id,
        cast(invoice_id as {{ dbt.type_string() }}) as invoice_id,
        coalesce(
            {{ json_text('payload', ['price', 'id']) }},
            {{ json_text('payload', ['pricing', 'price_details', 'price']) }},
            {{ json_text('payload', ['plan', 'id']) }}
        ) as price_id,
        coalesce(
            {{ json_text('payload', ['price', 'product', 'id']) }},
            {{ json_text('payload', ['price', 'product']) }},
            {{ json_text('payload', ['pricing', 'price_details', 'product']) }}
        ) as product_id,
        coalesce(
            {{ json_text('payload', ['subscription', 'id']) }},
            {{ json_text('payload', ['subscription']) }},
            {{ json_text('payload', ['parent', 'subscription_item_details', 'subscription']) }}
        ) as subscription_id,
        lower({{ json_text('payload', ['currency']) }}) as currency,
        {{ to_major_units(json_text('payload', ['amount']), json_text('payload', ['currency'])) }} as amount,
        cast({{ json_text('payload', ['quantity']) }} as bigint) as quantity,
        {{ from_unix_seconds(json_text('payload', ['period', 'start'])) }} as period_started_at,
        {{ from_unix_seconds(json_text('payload', ['period', 'end'])) }} as period_ended_at,
        _loaded_at as loaded_at
    from source

)

select * from renamed
