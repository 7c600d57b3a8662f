with events as (

    select * from {{ ref('fct_events') }}
    where person_id is not null

),

person_products as (

    select distinct
        person_id,
        product
    from events

),

person_combinations as (

    select
        person_id,
        count(*) as products_used,
        {{ dbt.listagg('product', "'+'", 'order by product') }} as product_combination
    from person_products
    group by person_id

),

converted_persons as (

    select distinct person_id
    from events
    where event_name = 'purchase_completed'

),

final as (

    select
        cast(person_combinations.product_combination as {{ dbt.type_string() }}) as product_combination,
        cast(max(person_combinations.products_used) as bigint) as products_used,
        cast(count(*) as bigint) as persons,
        cast(count(converted_persons.person_id) as bigint) as converted_persons,
        cast({{ safe_divide('count(converted_persons.person_id)', 'count(*)') }} as double precision) as conversion_share
    from person_combinations
    left join converted_persons
        on person_combinations.person_id = converted_persons.person_id
    group by person_combinations.product_combination

)

select * from final
