-- One row per Stripe event (`/v1/events`, last 30 days): the object as it was at the event
-- (`data_object`) and, on `*.updated` events, the old values of the keys that changed
-- (`previous_attributes`).

with source as (

    select * from {{ source('raw_stripe', 'events') }}

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as event_id,
        {{ json_text('payload', ['type']) }} as event_type,
        {{ json_text('payload', ['api_version']) }} as api_version,
        {{ json_text('payload', ['data', 'object', 'object']) }} as object_type,
        {{ json_text('payload', ['data', 'object', 'id']) }} as object_id,
        {{ json_value('payload', ['data', 'object']) }} as data_object,
        {{ json_value('payload', ['data', 'previous_attributes']) }} as previous_attributes,
        {{ from_unix_seconds(json_text('payload', ['created'])) }} as created_at,
        _loaded_at as loaded_at
    from source

)

select * from renamed
