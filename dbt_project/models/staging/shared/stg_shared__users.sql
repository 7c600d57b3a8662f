with

source as (

    select * from {{ source('shared', 'shared_users') }}

),

final as (

    select
        {{ identifier_or_null('id') }} as user_id,
        {{ normalized_email('email') }} as email,
        display_name,
        {{ identifier_or_null('stripe_customer_id') }} as stripe_customer_id,
        created_at,
        updated_at

    from source

)

select * from final
