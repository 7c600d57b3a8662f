-- One row per Stripe price. `unit_amount_minor` stays in the currency's minor unit (exact
-- decimal: `unit_amount_decimal` may carry fractions of a minor unit); `unit_amount` is in
-- major units (docs/METRICS.md, Conventions).

with source as (

    select * from {{ source('raw_stripe', 'prices') }}

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as price_id,
        coalesce(
            {{ json_text('payload', ['product', 'id']) }},
            {{ json_text('payload', ['product']) }}
        ) as product_id,
        lower({{ json_text('payload', ['currency']) }}) as currency,
        cast(
            coalesce(
                {{ json_text('payload', ['unit_amount_decimal']) }},
                {{ json_text('payload', ['unit_amount']) }}
            ) as decimal(38, 12)
        ) as unit_amount_minor,
        {{ json_text('payload', ['type']) }} as price_type,
        {{ json_text('payload', ['recurring', 'interval']) }} as recurring_interval,
        cast({{ json_text('payload', ['recurring', 'interval_count']) }} as bigint) as recurring_interval_count,
        {{ json_text('payload', ['nickname']) }} as nickname,
        {{ json_text('payload', ['metadata', 'acd_product']) }} as acd_product,
        {{ json_text('payload', ['metadata', 'bundle_products']) }} as bundle_products_json,
        coalesce({{ json_text('payload', ['active']) }} = 'true', false) as is_active,
        {{ from_unix_seconds(json_text('payload', ['created'])) }} as created_at,
        _loaded_at as loaded_at
    from source

)

select
    *,
    {{ to_major_units('unit_amount_minor', 'currency') }} as unit_amount
from renamed
