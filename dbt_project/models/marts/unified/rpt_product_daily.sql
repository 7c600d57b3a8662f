{#- Money columns are in the reporting currency (var `reporting_currency`, default USD): there
    is no exchange-rate table, so amounts in other currencies are left out and counted apart. -#}
{%- set reporting_currency = var('reporting_currency', 'USD') | upper -%}

with event_days as (

    select * from {{ ref('int_product_days_counted') }}

),

person_products as (

    select * from {{ ref('int_person_products') }}

),

charges as (

    select * from {{ ref('int_charges_assigned_to_products') }}

),

ad_performance as (

    select * from {{ ref('fct_ad_performance_daily') }}

),

ads as (

    select * from {{ ref('dim_ads') }}

),

conversions as (

    select * from {{ ref('int_conversions_valued') }}

),

ai_costs as (

    select * from {{ ref('rpt_ai_costs_daily') }}

),

new_person_days as (

    select
        product,
        {{ utc_date('first_seen_at') }} as activity_date,
        count(*) as new_persons
    from person_products
    group by product, {{ utc_date('first_seen_at') }}

),

revenue_days as (

    select
        product,
        charged_date as activity_date,
        sum(case when currency = '{{ reporting_currency }}' then net_amount else 0 end) as stripe_net_revenue,
        sum(case when currency = '{{ reporting_currency }}' then 0 else 1 end) as charges_in_other_currencies
    from charges
    group by product, charged_date

),

spend_days as (

    select
        ads.published_by_product as product,
        ad_performance.report_date as activity_date,
        sum(case when upper(ad_performance.currency) = '{{ reporting_currency }}' then ad_performance.spend else 0 end) as ad_spend
    from ad_performance
    inner join ads
        on ad_performance.platform = ads.platform
        and ad_performance.ad_id = ads.ad_id
    where ads.published_by_product is not null
    group by ads.published_by_product, ad_performance.report_date

),

attributed_days as (

    -- last_touch gives each conversion's whole value to one row of fct_attribution_credits
    -- (or to `direct`), so the day's last_touch attributed value is its conversions' value.
    select
        conversion_product as product,
        {{ utc_date('conversion_at') }} as activity_date,
        sum(case when upper(currency) = '{{ reporting_currency }}' then conversion_value else 0 end) as attributed_value
    from conversions
    group by conversion_product, {{ utc_date('conversion_at') }}

),

ai_days as (

    select
        product,
        usage_date as activity_date,
        sum(cost_usd) as ai_cost_usd
    from ai_costs
    group by product, usage_date

),

product_days as (

    select product, activity_date from event_days
    union
    select product, activity_date from revenue_days
    union
    select product, activity_date from spend_days
    union
    select product, activity_date from attributed_days
    union
    select product, activity_date from ai_days

),

final as (

    select
        cast(product_days.product as {{ dbt.type_string() }}) as product,
        cast(product_days.activity_date as date) as activity_date,
        cast(coalesce(event_days.active_persons, 0) as bigint) as active_persons,
        cast(coalesce(new_person_days.new_persons, 0) as bigint) as new_persons,
        cast(coalesce(event_days.events, 0) as bigint) as events,
        cast(coalesce(event_days.signups, 0) as bigint) as signups,
        cast(coalesce(event_days.purchases, 0) as bigint) as purchases,
        cast('{{ reporting_currency }}' as {{ dbt.type_string() }}) as currency,
        cast(coalesce(revenue_days.stripe_net_revenue, 0) as numeric(38, 6)) as stripe_net_revenue,
        cast(coalesce(revenue_days.charges_in_other_currencies, 0) as bigint) as charges_in_other_currencies,
        cast(coalesce(spend_days.ad_spend, 0) as numeric(38, 6)) as ad_spend,
        cast(coalesce(attributed_days.attributed_value, 0) as numeric(38, 6)) as last_touch_attributed_value,
        cast({{ safe_divide('coalesce(attributed_days.attributed_value, 0)', 'spend_days.ad_spend') }} as double precision) as roas,
        cast(coalesce(ai_days.ai_cost_usd, 0) as double precision) as ai_cost_usd
    from product_days
    left join event_days
        on product_days.product = event_days.product
        and product_days.activity_date = event_days.activity_date
    left join new_person_days
        on product_days.product = new_person_days.product
        and product_days.activity_date = new_person_days.activity_date
    left join revenue_days
        on product_days.product = revenue_days.product
        and product_days.activity_date = revenue_days.activity_date
    left join spend_days
        on product_days.product = spend_days.product
        and product_days.activity_date = spend_days.activity_date
    left join attributed_days
        on product_days.product = attributed_days.product
        and product_days.activity_date = attributed_days.activity_date
    left join ai_days
        on product_days.product = ai_days.product
        and product_days.activity_date = ai_days.activity_date

)

select * from final
