-- One row per Stripe subscription × known version × item: the items (price, quantity,
-- interval) and status a subscription had from `effective_from` until `effective_to`.
--
-- Stripe serves only the current subscription; history comes from the `customer.subscription.*`
-- events of /v1/events (the last 30 days): each carries the whole subscription as it was then,
-- and the earliest `updated` one carries the items from before it in
-- `data.previous_attributes.items`. The current object is the version since the latest event.
-- The earliest known version is taken to hold since the subscription started (events older than
-- 30 days are gone), so `effective_from` of the first version is open (1900-01-01).

with subscriptions as (

    select * from {{ ref('stg_stripe__subscriptions') }}

),

current_items as (

    select * from {{ ref('stg_stripe__subscription_items') }}

),

events as (

    select * from {{ ref('stg_stripe__events') }}
    where object_type = 'subscription'
        and event_type like 'customer.subscription.%'

),

latest_event as (

    select
        object_id as subscription_id,
        max(created_at) as latest_event_at
    from events
    group by object_id

),

earliest_event as (

    select *
    from (
        select
            *,
            row_number() over (
                partition by object_id
                order by created_at, event_id
            ) as event_rank
        from events
    ) as ranked
    where event_rank = 1

),

current_version as (

    select
        subscriptions.subscription_id,
        coalesce(latest_event.latest_event_at, subscriptions.created_at) as version_at,
        1 as source_priority,
        'current' as version_source,
        subscriptions.status,
        current_items.subscription_item_id,
        current_items.price_id,
        current_items.product_id,
        current_items.currency,
        current_items.unit_amount_minor,
        current_items.quantity,
        current_items.recurring_interval,
        current_items.recurring_interval_count
    from subscriptions
    inner join current_items
        on subscriptions.subscription_id = current_items.subscription_id
    left join latest_event
        on subscriptions.subscription_id = latest_event.subscription_id

),

{%- set item_columns %}
        {{ json_text('item.value', ['id']) }} as subscription_item_id,
        coalesce(
            {{ json_text('item.value', ['price', 'id']) }},
            {{ json_text('item.value', ['plan', 'id']) }}
        ) as price_id,
        coalesce(
            {{ json_text('item.value', ['price', 'product', 'id']) }},
            {{ json_text('item.value', ['price', 'product']) }},
            {{ json_text('item.value', ['plan', 'product']) }}
        ) as product_id,
        lower(coalesce(
            {{ json_text('item.value', ['price', 'currency']) }},
            {{ json_text('item.value', ['plan', 'currency']) }}
        )) as currency,
        cast(coalesce(
            {{ json_text('item.value', ['price', 'unit_amount_decimal']) }},
            {{ json_text('item.value', ['price', 'unit_amount']) }},
            {{ json_text('item.value', ['plan', 'amount_decimal']) }},
            {{ json_text('item.value', ['plan', 'amount']) }}
        ) as decimal(38, 12)) as unit_amount_minor,
        coalesce(cast({{ json_text('item.value', ['quantity']) }} as bigint), 1) as quantity,
        coalesce(
            {{ json_text('item.value', ['price', 'recurring', 'interval']) }},
            {{ json_text('item.value', ['plan', 'interval']) }}
        ) as recurring_interval,
        cast(coalesce(
            {{ json_text('item.value', ['price', 'recurring', 'interval_count']) }},
            {{ json_text('item.value', ['plan', 'interval_count']) }}
        ) as bigint) as recurring_interval_count
{%- endset %}

event_versions as (

    select
        events.object_id as subscription_id,
        events.created_at as version_at,
        2 as source_priority,
        'event' as version_source,
        {{ json_text('events.data_object', ['status']) }} as status,
        {{ item_columns }}
    from events,
        {{ json_array_elements(json_value('events.data_object', ['items', 'data']), 'item') }}

),

before_first_event as (

    select
        earliest_event.object_id as subscription_id,
        subscriptions.created_at as version_at,
        3 as source_priority,
        'previous_attributes' as version_source,
        coalesce(
            {{ json_text('earliest_event.previous_attributes', ['status']) }},
            {{ json_text('earliest_event.data_object', ['status']) }}
        ) as status,
        {{ item_columns }}
    from earliest_event
    inner join subscriptions
        on earliest_event.object_id = subscriptions.subscription_id,
        {{ json_array_elements(
            json_value('earliest_event.previous_attributes', ['items', 'data']), 'item'
        ) }}
    where earliest_event.event_type = 'customer.subscription.updated'
        and subscriptions.created_at < earliest_event.created_at

),

unioned as (

    select * from current_version
    union all
    select * from event_versions
    union all
    select * from before_first_event

),

versions as (

    select distinct
        subscription_id,
        version_at,
        source_priority
    from unioned

),

-- one version per instant: the current object wins over an event at the same time
versions_kept as (

    select
        subscription_id,
        version_at,
        source_priority
    from (
        select
            *,
            row_number() over (
                partition by subscription_id, version_at
                order by source_priority
            ) as priority_rank
        from versions
    ) as prioritized
    where priority_rank = 1

),

versions_ranged as (

    select
        subscription_id,
        version_at,
        source_priority,
        case
            when row_number() over (partition by subscription_id order by version_at) = 1
                then cast('1900-01-01 00:00:00+00' as timestamp with time zone)
            else version_at
        end as effective_from,
        coalesce(
            lead(version_at) over (partition by subscription_id order by version_at),
            cast('9999-12-31 00:00:00+00' as timestamp with time zone)
        ) as effective_to
    from versions_kept

),

final as (

    select
        unioned.subscription_id,
        unioned.version_at,
        unioned.version_source,
        versions_ranged.effective_from,
        versions_ranged.effective_to,
        unioned.status,
        unioned.subscription_item_id,
        unioned.price_id,
        unioned.product_id,
        unioned.currency,
        unioned.unit_amount_minor,
        unioned.quantity,
        unioned.recurring_interval,
        unioned.recurring_interval_count
    from unioned
    inner join versions_ranged
        on unioned.subscription_id = versions_ranged.subscription_id
        and unioned.version_at = versions_ranged.version_at
        and unioned.source_priority = versions_ranged.source_priority

)

select * from final
