-- One row per platform per ad per observed version: the status it had and when it was
-- observed (Meta `effective_status` at `updated_time`, TikTok `operation_status` at
-- `modify_time`), with the attributes of that version.

with meta_ads as (

    select * from {{ ref('stg_meta__ads') }}

),

tiktok_ads as (

    select * from {{ ref('stg_tiktok__ads') }}

),

unioned as (

    select
        'meta' as platform,
        ad_id,
        updated_at as observed_at,
        effective_status as status,
        account_id,
        campaign_id,
        adset_id,
        ad_name,
        creative_id,
        created_at,
        loaded_at
    from meta_ads

    union all

    select
        'tiktok' as platform,
        ad_id,
        modified_at as observed_at,
        operation_status as status,
        advertiser_id as account_id,
        campaign_id,
        adgroup_id as adset_id,
        ad_name,
        cast(null as {{ dbt.type_string() }}) as creative_id,
        created_at,
        loaded_at
    from tiktok_ads

),

sequenced as (

    select
        *,
        lag(status) over (
            partition by platform, ad_id
            order by observed_at, loaded_at, status
        ) as previous_status,
        row_number() over (
            partition by platform, ad_id
            order by observed_at desc, loaded_at desc, status desc
        ) as recency_rank
    from unioned

)

select * from sequenced
