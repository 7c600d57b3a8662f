with

source as (

    select * from {{ source('shared', 'shared_assets') }}

),

final as (

    select
        id as asset_id,
        sha256,
        kind,
        source,
        product,
        {{ identifier_or_null('user_id') }} as user_id,
        uri,
        bytes,
        created_at,
        tags

    from source

)

select * from final
