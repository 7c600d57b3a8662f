-- One row per Meta ad per account-local day per action list per action type: the
-- `actions`, `action_values` and `video_play_actions` arrays of the insights row, unnested.
-- Overlapping purchase types (omni_purchase, purchase, offsite_conversion.fb_pixel_purchase)
-- are all kept here; int_meta_purchases_picked picks one.

with source as (

    select * from {{ source('raw_meta', 'ads_insights') }}

),

actions as (

    select
        source.ad_id,
        source.date_start,
        'actions' as action_list,
        action.value as action_object
    from source,
        {{ json_array_elements(json_value('source.payload', ['actions']), 'action') }}

),

action_values as (

    select
        source.ad_id,
        source.date_start,
        'action_values' as action_list,
        action.value as action_object
    from source,
        {{ json_array_elements(json_value('source.payload', ['action_values']), 'action') }}

),

video_play_actions as (

    select
        source.ad_id,
        source.date_start,
        'video_play_actions' as action_list,
        action.value as action_object
    from source,
        {{ json_array_elements(json_value('source.payload', ['video_play_actions']), 'action') }}

),

unioned as (

    select * from actions
    union all
    select * from action_values
    union all
    select * from video_play_actions

),

renamed as (

    select
        cast(ad_id as {{ dbt.type_string() }}) as ad_id,
        cast(date_start as date) as report_date,
        action_list,
        {{ json_element_text('action_object', 'action_type') }} as action_type,
        {{ parse_decimal(json_element_text('action_object', 'value')) }} as action_value
    from unioned

)

select * from renamed
