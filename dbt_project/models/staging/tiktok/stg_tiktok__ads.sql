-- One row per observed version of a TikTok ad (a new operation status or edit is a new row).
-- `modify_time` is served without a zone ("YYYY-MM-DD HH:MM:SS"); it is read as UTC.

with source as (

    select * from {{ source('raw_tiktok', 'ads') }}

),

renamed as (

    select
        cast(ad_id as {{ dbt.type_string() }}) as ad_id,
        cast(modify_time as {{ dbt.type_timestamp() }}) at time zone 'UTC' as modified_at,
        operation_status,
        {{ json_text('payload', ['secondary_status']) }} as secondary_status,
        cast(advertiser_id as {{ dbt.type_string() }}) as advertiser_id,
        {{ json_text('payload', ['ad_name']) }} as ad_name,
        {{ json_text('payload', ['campaign_id']) }} as campaign_id,
        {{ json_text('payload', ['adgroup_id']) }} as adgroup_id,
        cast({{ json_text('payload', ['create_time']) }} as {{ dbt.type_timestamp() }}) at time zone 'UTC' as created_at,
        _loaded_at as loaded_at
    from source

)

select * from renamed
