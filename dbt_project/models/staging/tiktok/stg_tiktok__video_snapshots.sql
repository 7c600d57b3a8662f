-- One row per organic TikTok video per fetch: the Display API video's cumulative counters
-- as of `fetched_at`.

with source as (

    select * from {{ source('raw_tiktok', 'video_snapshots') }}

),

renamed as (

    select
        cast(video_id as {{ dbt.type_string() }}) as video_id,
        fetched_at,
        {{ json_text('payload', ['title']) }} as title,
        {{ from_unix_seconds(json_text('payload', ['create_time'])) }} as video_created_at,
        {{ parse_count(json_text('payload', ['view_count'])) }} as view_count,
        {{ parse_count(json_text('payload', ['like_count'])) }} as like_count,
        {{ parse_count(json_text('payload', ['comment_count'])) }} as comment_count,
        {{ parse_count(json_text('payload', ['share_count'])) }} as share_count,
        _account_id as account_id,
        _loaded_at as loaded_at
    from source

)

select * from renamed
