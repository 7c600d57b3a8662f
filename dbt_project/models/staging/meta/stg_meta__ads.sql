-- One row per observed version of a Meta ad (a new effective status or edit is a new row).

with source as (

    select * from {{ source('raw_meta', 'ads') }}

),

renamed as (

    select
        cast(ad_id as {{ dbt.type_string() }}) as ad_id,
        updated_time as updated_at,
        effective_status,
        {{ json_text('payload', ['status']) }} as status,
        {{ json_text('payload', ['configured_status']) }} as configured_status,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        {{ json_text('payload', ['name']) }} as ad_name,
        {{ json_text('payload', ['campaign_id']) }} as campaign_id,
        {{ json_text('payload', ['adset_id']) }} as adset_id,
        {{ json_text('payload', ['creative', 'id']) }} as creative_id,
        cast({{ json_text('payload', ['created_time']) }} as timestamp with time zone) as created_at,
        _loaded_at as loaded_at
    from source

)

select * from renamed
