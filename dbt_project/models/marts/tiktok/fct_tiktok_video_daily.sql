with day_snapshots as (

    select * from {{ ref('int_video_snapshots_picked') }}

),

with_previous as (

    select
        *
        {%- for column in ['snapshot_date', 'view_count', 'like_count', 'comment_count', 'share_count'] %},
        lag({{ column }}) over (partition by video_id order by snapshot_date) as previous_{{ column }}
        {%- endfor %}
    from day_snapshots

),

gains as (

    select
        *,
        -- The first snapshot's gain is its count; after a day without a snapshot the gain
        -- covers every day since the previous snapshot, so gains always sum to the count.
        coalesce(view_count, 0) - coalesce(previous_view_count, 0) as views_gained,
        coalesce(like_count, 0) - coalesce(previous_like_count, 0) as likes_gained,
        coalesce(comment_count, 0) - coalesce(previous_comment_count, 0) as comments_gained,
        coalesce(share_count, 0) - coalesce(previous_share_count, 0) as shares_gained
    from with_previous

),

final as (

    select
        cast(video_id as {{ dbt.type_string() }}) as video_id,
        cast(snapshot_date as date) as snapshot_date,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(title as {{ dbt.type_string() }}) as title,
        cast(video_created_at as timestamp with time zone) as video_created_at,
        cast(snapshot_at as timestamp with time zone) as snapshot_at,
        cast(view_count as bigint) as views,
        cast(like_count as bigint) as likes,
        cast(comment_count as bigint) as comments,
        cast(share_count as bigint) as shares,
        cast(views_gained as bigint) as views_gained,
        cast(likes_gained as bigint) as likes_gained,
        cast(comments_gained as bigint) as comments_gained,
        cast(shares_gained as bigint) as shares_gained,
        cast(previous_snapshot_date as date) as previous_snapshot_date,
        cast(
            {{ safe_divide('coalesce(like_count, 0) + coalesce(comment_count, 0) + coalesce(share_count, 0)', 'view_count') }}
            as double precision
        ) as engagement_rate,
        cast(is_in_latest_fetch as boolean) as is_in_latest_fetch
    from gains

)

select * from final
