with generations as (

    select * from {{ ref('int_ai_generations_priced') }}

),

by_day as (

    select
        product,
        occurred_date,
        coalesce(provider, 'unknown') as provider,
        coalesce(model, 'unknown') as model,
        count(*) as generations,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens,
        sum(total_tokens) as total_tokens,
        sum(cost_usd) as cost_usd,
        min(case when has_pricing then 1 else 0 end) = 1 as is_fully_priced,
        sum(case when estimated_tokens is not null then 1 else 0 end) as estimated_generations,
        sum(estimated_tokens) as estimated_tokens,
        sum(case when estimated_tokens is not null then total_tokens end) as actual_tokens_of_estimated,
        sum(
            case
                when estimated_tokens is not null
                    and abs(estimated_tokens - total_tokens) > 0.01 * total_tokens
                    then 1
                else 0
            end
        ) as generations_off_by_over_1pct
    from generations
    group by
        product,
        occurred_date,
        coalesce(provider, 'unknown'),
        coalesce(model, 'unknown')

),

final as (

    select
        cast(product as {{ dbt.type_string() }}) as product,
        cast(occurred_date as date) as usage_date,
        cast(provider as {{ dbt.type_string() }}) as provider,
        cast(model as {{ dbt.type_string() }}) as model,
        cast(generations as bigint) as generations,
        cast(input_tokens as bigint) as input_tokens,
        cast(output_tokens as bigint) as output_tokens,
        cast(total_tokens as bigint) as total_tokens,
        cast(cost_usd as double precision) as cost_usd,
        cast(is_fully_priced as boolean) as is_fully_priced,
        cast(estimated_generations as bigint) as estimated_generations,
        cast(estimated_tokens as bigint) as estimated_tokens,
        cast(actual_tokens_of_estimated as bigint) as actual_tokens_of_estimated,
        cast(
            {{ safe_divide('estimated_tokens - actual_tokens_of_estimated', 'actual_tokens_of_estimated') }}
            as double precision
        ) as token_discrepancy_ratio,
        cast(
            coalesce(
                abs(estimated_tokens - actual_tokens_of_estimated) > 0.01 * actual_tokens_of_estimated,
                false
            ) as boolean
        ) as is_discrepancy_flagged,
        cast(generations_off_by_over_1pct as bigint) as generations_off_by_over_1pct
    from by_day

)

select * from final
