-- One row per `ai_generation` event (docs/REFERENCE.md, Standard events): tokens used, the tokens the product
-- estimated beforehand (optional), and the cost at the pricing seed's list prices (USD).

with events as (

    select * from {{ ref('fct_events') }}
    where event_name = 'ai_generation'

),

pricing as (

    select * from {{ ref('ai_model_pricing') }}

),

parsed as (

    select
        event_id,
        product,
        person_id,
        occurred_at,
        {{ utc_date('occurred_at') }} as occurred_date,
        lower({{ json_text('properties', ['provider']) }}) as provider,
        {{ json_text('properties', ['model']) }} as model,
        coalesce({{ parse_count(json_text('properties', ['input_tokens'])) }}, 0) as input_tokens,
        coalesce({{ parse_count(json_text('properties', ['output_tokens'])) }}, 0) as output_tokens,
        {{ parse_count(json_text('properties', ['estimated_tokens'])) }} as estimated_tokens
    from events

),

final as (

    select
        parsed.*,
        parsed.input_tokens + parsed.output_tokens as total_tokens,
        pricing.model is not null as has_pricing,
        cast(parsed.input_tokens as double precision) * pricing.input_usd_per_million_tokens / 1000000.0
            + cast(parsed.output_tokens as double precision) * pricing.output_usd_per_million_tokens / 1000000.0
            as cost_usd
    from parsed
    left join pricing
        on parsed.provider = lower(pricing.provider)
        and parsed.model = pricing.model

)

select * from final
