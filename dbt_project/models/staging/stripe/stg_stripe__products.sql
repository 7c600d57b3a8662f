-- One row per Stripe product, with the ACD metadata: `acd_product` (which ACD product's
-- revenue it is, docs/METRICS.md, Revenue) and `bundle_products` (a JSON string listing the apps a bundle
-- purchase entitles, docs/METRICS.md, Entitlement reconciliation).

with source as (

    select * from {{ source('raw_stripe', 'products') }}

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as product_id,
        {{ json_text('payload', ['name']) }} as product_name,
        {{ json_text('payload', ['metadata', 'acd_product']) }} as acd_product,
        {{ json_text('payload', ['metadata', 'bundle_products']) }} as bundle_products_json,
        coalesce({{ json_text('payload', ['active']) }} = 'true', false) as is_active,
        {{ from_unix_seconds(json_text('payload', ['created'])) }} as created_at,
        _loaded_at as loaded_at
    from source

)

select * from renamed
