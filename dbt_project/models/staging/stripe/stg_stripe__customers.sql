-- One row per Stripe customer (deleted customers kept, flagged).

with source as (

    select * from {{ source('raw_stripe', 'customers') }}

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as customer_id,
        {{ normalized_email(json_text('payload', ['email'])) }} as email,
        {{ json_text('payload', ['name']) }} as customer_name,
        lower({{ json_text('payload', ['currency']) }}) as currency,
        coalesce({{ json_text('payload', ['deleted']) }} = 'true', false) as is_deleted,
        {{ from_unix_seconds(json_text('payload', ['created'])) }} as created_at,
        _account_id as account_id,
        _loaded_at as loaded_at
    from source

)

select * from renamed
