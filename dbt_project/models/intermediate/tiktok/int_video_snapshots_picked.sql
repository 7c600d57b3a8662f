-- One row per organic TikTok video per UTC day with a snapshot: the last snapshot of that
-- day (its cumulative counters), and whether the video was still served by the account's
-- latest fetch (a video that disappears keeps its rows up to its last snapshot).

with snapshots as (

    select * from {{ ref('stg_tiktok__video_snapshots') }}

),

dated as (

    select
        *,
        {{ utc_date('fetched_at') }} as snapshot_date
    from snapshots

),

ranked as (

    select
        *,
        row_number() over (
            partition by video_id, snapshot_date
            order by fetched_at desc
        ) as day_rank
    from dated

),

last_of_day as (

    select * from ranked
    where day_rank = 1

),

account_latest as (

    select
        account_id,
        max(snapshot_date) as latest_snapshot_date
    from last_of_day
    group by account_id

),

final as (

    select
        last_of_day.video_id,
        last_of_day.snapshot_date,
        last_of_day.account_id,
        last_of_day.title,
        last_of_day.video_created_at,
        last_of_day.fetched_at as snapshot_at,
        last_of_day.view_count,
        last_of_day.like_count,
        last_of_day.comment_count,
        last_of_day.share_count,
        max(last_of_day.snapshot_date) over (
            partition by last_of_day.video_id
        ) = account_latest.latest_snapshot_date as is_in_latest_fetch
    from last_of_day
    inner join account_latest
        on last_of_day.account_id = account_latest.account_id

)

select * from final
