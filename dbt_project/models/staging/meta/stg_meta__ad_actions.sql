-- One row per Meta ad per account-local day per action list per action type: the
-- `actions`, `action_values` and `video_play_actions` arrays of the insights row, unnested.
-- Overlapping purchase types (omni_purchase, purchase, offsite_conversion.fb_pixel_purchase)
-- are all kept here; int_meta__ad_daily_purchases picks one.

with source as (

    select * from {{ source('raw_meta', 'ads_insights') }}

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by ad_id, date_start
            order by _loaded_at desc
        ) as row_rank
    from source

),

latest as (

    select
        ad_id,
        date_start,
        payload
    from deduplicated
    where row_rank = 1

),

actions as (

    select
        latest.ad_id,
        latest.date_start,
        'actions' as action_list,
        action.value as action_object
    from latest,
        {{ json_array_elements(json_value('latest.payload', ['actions']), 'action') }}

),

action_values as (

    select
        latest.ad_id,
        latest.date_start,
        'action_values' as action_list,
        action.value as action_object
    from latest,
        {{ json_array_elements(json_value('latest.payload', ['action_values']), 'action') }}

),

video_play_actions as (

    select
        latest.ad_id,
        latest.date_start,
        'video_play_actions' as action_list,
        action.value as action_object
    from latest,
        {{ json_array_elements(json_value('latest.payload', ['video_play_actions']), 'action') }}

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
