-- One row per Stripe charge: the links that the charge object does not carry in current API
-- versions and that our checkout writes into its metadata (all values strings): the invoice a
-- charge pays (`metadata.invoice`), and the price and product of a one-off purchase
-- (`metadata.price`, `metadata.product`). Kept apart from stg_stripe__charges, which types the
-- charge itself.

with source as (

    select * from {{ source('raw_stripe', 'charges') }}

),

deduplicated as (

    select
        *,
        row_number() over (partition by id order by _loaded_at desc) as row_rank
    from source

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as charge_id,
        nullif({{ json_text('payload', ['metadata', 'invoice']) }}, '') as metadata_invoice_id,
        nullif({{ json_text('payload', ['metadata', 'price']) }}, '') as metadata_price_id,
        nullif({{ json_text('payload', ['metadata', 'product']) }}, '') as metadata_product_id
    from deduplicated
    where row_rank = 1

)

select * from renamed
