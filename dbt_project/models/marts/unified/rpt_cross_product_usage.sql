{#- Per person from int_person_event_stats (incremental), so that this report costs a scan of
    persons, not of every event. -#}

with persons as (

    select * from {{ ref('int_person_event_stats') }}

),

final as (

    select
        cast(product_combination as {{ dbt.type_string() }}) as product_combination,
        cast(max(products) as bigint) as products_used,
        cast(count(*) as bigint) as persons,
        cast(sum(case when has_purchased then 1 else 0 end) as bigint) as converted_persons,
        cast({{ safe_divide('sum(case when has_purchased then 1 else 0 end)', 'count(*)') }} as double precision) as conversion_share
    from persons
    group by product_combination

)

select * from final
