-- One row per PCT hook: its text and features from its latest `hook_generated` event
-- (docs/REFERENCE.md, Standard events: hook_id, hook_text, awareness_level 1–5, angle, optional template).

with events as (

    select * from {{ ref('fct_events') }}

),

generated as (

    select
        event_id,
        product,
        occurred_at,
        {{ json_text('properties', ['hook_id']) }} as hook_id,
        {{ json_text('properties', ['hook_text']) }} as hook_text,
        {{ parse_count(json_text('properties', ['awareness_level'])) }} as awareness_level,
        {{ json_text('properties', ['angle']) }} as angle,
        nullif({{ json_text('properties', ['template']) }}, '') as template
    from events
    where event_name = 'hook_generated'

),

ranked as (

    select
        *,
        row_number() over (
            partition by hook_id
            order by occurred_at desc, event_id desc
        ) as recency_rank,
        min(occurred_at) over (partition by hook_id) as first_generated_at
    from generated
    where hook_id is not null

),

final as (

    select
        hook_id,
        hook_text,
        awareness_level,
        angle,
        template,
        product as generated_by_product,
        first_generated_at
    from ranked
    where recency_rank = 1

)

select * from final
