-- One row per Stripe subscription item (current state): price, quantity and the recurring
-- interval. API versions before 2020 carry the price as `plan` (amount, interval); both are
-- read. `unit_amount_minor` is in the currency's minor unit, exact.

with source as (

    select * from {{ source('raw_stripe', 'subscription_items') }}

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as subscription_item_id,
        cast(subscription_id as {{ dbt.type_string() }}) as subscription_id,
        coalesce(
            {{ json_text('payload', ['price', 'id']) }},
            {{ json_text('payload', ['plan', 'id']) }}
        ) as price_id,
        coalesce(
            {{ json_text('payload', ['price', 'product', 'id']) }},
            {{ json_text('payload', ['price', 'product']) }},
            {{ json_text('payload', ['plan', 'product', 'id']) }},
            {{ json_text('payload', ['plan', 'product']) }}
        ) as product_id,
        lower(coalesce(
            {{ json_text('payload', ['price', 'currency']) }},
            {{ json_text('payload', ['plan', 'currency']) }}
        )) as currency,
        cast(
            coalesce(
                {{ json_text('payload', ['price', 'unit_amount_decimal']) }},
                {{ json_text('payload', ['price', 'unit_amount']) }},
                {{ json_text('payload', ['plan', 'amount_decimal']) }},
                {{ json_text('payload', ['plan', 'amount']) }}
            ) as decimal(38, 12)
        ) as unit_amount_minor,
        coalesce(cast({{ json_text('payload', ['quantity']) }} as bigint), 1) as quantity,
        coalesce(
            {{ json_text('payload', ['price', 'recurring', 'interval']) }},
            {{ json_text('payload', ['plan', 'interval']) }}
        ) as recurring_interval,
        cast(coalesce(
            {{ json_text('payload', ['price', 'recurring', 'interval_count']) }},
            {{ json_text('payload', ['plan', 'interval_count']) }}
        ) as bigint) as recurring_interval_count,
        {{ from_unix_seconds(json_text('payload', ['current_period_start'])) }} as current_period_started_at,
        {{ from_unix_seconds(json_text('payload', ['current_period_end'])) }} as current_period_ends_at,
        created as created_at,
        _loaded_at as loaded_at
    from source

)

select * from renamed
