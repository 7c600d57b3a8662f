with

source as (

    select * from {{ source('shared', 'shared_entitlements') }}

),

final as (

    select
        id as entitlement_id,
        {{ identifier_or_null('user_id') }} as user_id,
        product,
        plan,
        status,
        source_app,
        nullif(source_purchase_id, '') as source_purchase_id,
        {{ normalized_email('pending_for_email') }} as pending_for_email,
        granted_at,
        revoked_at,
        expires_at

    from source

)

select * from final
