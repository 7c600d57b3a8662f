-- One row per Meta ad per account-local day: the purchases, purchase value and video views
-- of the insights row. Meta reports one purchase under several overlapping action types, so
-- exactly one is counted, by priority: omni_purchase, else purchase, else
-- offsite_conversion.fb_pixel_purchase (each of `actions` and `action_values` on its own).

with actions as (

    select * from {{ ref('stg_meta__ad_actions') }}

),

purchase_actions as (

    select
        ad_id,
        report_date,
        action_list,
        action_value,
        case action_type
            when 'omni_purchase' then 1
            when 'purchase' then 2
            when 'offsite_conversion.fb_pixel_purchase' then 3
        end as type_priority
    from actions
    where action_list in ('actions', 'action_values')
        and action_type in ('omni_purchase', 'purchase', 'offsite_conversion.fb_pixel_purchase')

),

ranked as (

    select
        *,
        row_number() over (
            partition by ad_id, report_date, action_list
            order by type_priority
        ) as priority_rank
    from purchase_actions

),

picked as (

    select * from ranked
    where priority_rank = 1

),

video_views as (

    select
        ad_id,
        report_date,
        sum(action_value) as video_views
    from actions
    where action_list = 'video_play_actions'
        and action_type = 'video_view'
    group by ad_id, report_date

),

ad_days as (

    select ad_id, report_date from picked
    union
    select ad_id, report_date from video_views

),

final as (

    select
        ad_days.ad_id,
        ad_days.report_date,
        max(case when picked.action_list = 'actions' then picked.action_value end) as purchases,
        max(case when picked.action_list = 'action_values' then picked.action_value end) as purchase_value,
        max(video_views.video_views) as video_views
    from ad_days
    left join picked
        on ad_days.ad_id = picked.ad_id
        and ad_days.report_date = picked.report_date
    left join video_views
        on ad_days.ad_id = video_views.ad_id
        and ad_days.report_date = video_views.report_date
    group by ad_days.ad_id, ad_days.report_date

)

select * from final
