with versions as (

    select * from {{ ref('int_ad_versions_unioned') }}

),

changes as (

    select
        platform,
        ad_id,
        observed_at as changed_at,
        previous_status as from_status,
        status as to_status,
        previous_status is null as is_first_observation
    from versions
    where previous_status is null
        or previous_status <> status

),

final as (

    select
        cast(platform as {{ dbt.type_string() }}) as platform,
        cast(ad_id as {{ dbt.type_string() }}) as ad_id,
        cast(changed_at as timestamp with time zone) as changed_at,
        cast({{ utc_date('changed_at') }} as date) as changed_date,
        cast(from_status as {{ dbt.type_string() }}) as from_status,
        cast(to_status as {{ dbt.type_string() }}) as to_status,
        cast(is_first_observation as boolean) as is_first_observation
    from changes

)

select * from final
