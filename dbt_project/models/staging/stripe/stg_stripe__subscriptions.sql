-- One row per Stripe subscription: its current state (the API serves no history; see
-- stg_stripe__events for the `customer.subscription.*` snapshots). `current_period_*` sit on
-- the subscription in API versions before 2025-03-31 and on each item after: both are read.

with source as (

    select * from {{ source('raw_stripe', 'subscriptions') }}

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as subscription_id,
        coalesce(
            {{ json_text('payload', ['customer', 'id']) }},
            {{ json_text('payload', ['customer']) }}
        ) as customer_id,
        {{ json_text('payload', ['status']) }} as status,
        lower({{ json_text('payload', ['currency']) }}) as currency,
        coalesce({{ json_text('payload', ['cancel_at_period_end']) }} = 'true', false) as is_cancel_at_period_end,
        {{ from_unix_seconds(json_text('payload', ['created'])) }} as created_at,
        {{ from_unix_seconds(json_text('payload', ['start_date'])) }} as started_at,
        {{ from_unix_seconds(json_text('payload', ['trial_start'])) }} as trial_started_at,
        {{ from_unix_seconds(json_text('payload', ['trial_end'])) }} as trial_ended_at,
        {{ from_unix_seconds(json_text('payload', ['cancel_at'])) }} as cancel_at,
        {{ from_unix_seconds(json_text('payload', ['canceled_at'])) }} as canceled_at,
        {{ from_unix_seconds(json_text('payload', ['ended_at'])) }} as ended_at,
        {{ from_unix_seconds(json_text('payload', ['current_period_start'])) }} as current_period_started_at,
        {{ from_unix_seconds(json_text('payload', ['current_period_end'])) }} as current_period_ends_at,
        _account_id as account_id,
        _loaded_at as loaded_at
    from source

)

select * from renamed
