{#- One row per event: shared_events with its person (docs/METRICS.md, Identity), campaign fields and channel
    (docs/METRICS.md, Channels). Incremental, merged on event_id: a run merges the events of
    int_run_limits' received range — in a partition run (Dagster's received-day window) every
    event received in the window, loaded or not, so that a backfill rebuilds exactly its days;
    otherwise those received in the last `events_late_arrival_hours` before the newest row it
    holds that are not loaded yet — and the stored anonymous events of the ids of
    int_anonymous_ids_this_run whose person changed (a claim today changes a person's past,
    whatever its day). Every row merged is stamped with the run's start (`built_at`) and keeps
    the stamp of the run that first merged it (`first_built_at`); the models downstream read
    the rows stamped since they last ran (int_events_this_run). With windows that cover every
    day that received events, the rows of a full refresh. -#}

{#- merge_recent (macros/incremental.sql): dbt's merge, matched against the stored rows received
    since the oldest merged row only. merge_exclude_columns: a row merged again keeps the stamp
    of the run that first merged it. hash_joins_only: PostgreSQL estimates the received range
    small and otherwise probes the event_id index once per received event (docs/INCREMENTAL.md). -#}
{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='merge_recent',
        merge_exclude_columns=['first_built_at'],
        on_schema_change='fail',
        tags=['partitioned'],
        pre_hook="{{ hash_joins_only() }}",
        indexes=postgres_indexes([
            {'columns': ['event_id'], 'unique': true},
            {'columns': ['received_at']},
            {'columns': ['anonymous_id']},
            {'columns': ['person_id']},
            {'columns': ['built_at']},
            {'columns': ['occurred_date']},
        ]),
    )
}}

-- depends_on: {{ ref('int_run_limits') }}, {{ ref('int_anonymous_ids_this_run') }}

{% set campaign_fields = ['utm_source', 'utm_medium', 'utm_campaign', 'fbclid', 'ttclid', 'gclid'] %}
{#- The columns of stg_shared__events that fct_events keeps as they are. -#}
{% set event_columns = [
    'event_id', 'product', 'event_name', 'user_id', 'anonymous_id', 'session_id', 'occurred_at',
    'sent_at', 'received_at', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_term',
    'utm_content', 'fbclid', 'ttclid', 'gclid', 'page_url', 'page_path', 'page_referrer',
    'revenue', 'revenue_currency', 'stripe_charge_id', 'stripe_invoice_id', 'properties',
    'context', 'library',
] %}

with

claims as (

    select
        anonymous_id,
        user_id as claimed_user_id
    from {{ ref('int_anonymous_ids_claimed') }}

),

channel_mapping as (

    select
        priority,
        lower(match_field) as match_field,
        lower(match_value) as match_value,
        channel
    from {{ ref('channel_mapping') }}

),

{% if is_incremental() %}

limits as (

    select * from {{ ref('int_run_limits') }}

),

-- The events of the run's received range. The limits are scalar subqueries, not a join:
-- PostgreSQL then reads the range by its received_at index (joined, it parsed the JSON of
-- every stored event). Filtered in a CTE of its own, apart from the anti-join below: DuckDB
-- then filters the scan, where with both in one WHERE it parsed every stored event.
received as (

    select * from {{ ref('stg_shared__events') }}
    where received_at >= (select received_from from limits)
        and received_at < (select received_until from limits)

),

events as (

    -- The events of the run's received range not loaded yet (all of them in a partition run).
    select
        {% for column in event_columns -%}
        staged.{{ column }}{{ ',' if not loop.last }}
        {% endfor %}
    from received as staged
    where not exists (
        select 1
        from {{ this }} as loaded
        where loaded.event_id = staged.event_id
            and loaded.received_at >= (select received_from from limits)
            and not (select reloads from limits)
    )

    union all

    -- and the loaded anonymous events whose person is no longer what the claims say, re-read
    -- from the table itself (an event never changes but for its person; those of a partition
    -- window are above already). Per re-identified id, by the anonymous_id index on
    -- PostgreSQL (per_row_lookup; a join read the whole index).
    select
        {% for column in event_columns -%}
        existing.{{ column }}{{ ',' if not loop.last }}
        {% endfor %}
    from {{ ref('int_anonymous_ids_this_run') }} as reidentified
    cross join lateral (
        -- (qualified: the subquery reads the outer row)
        select * from {{ this }} as stored
        where stored.anonymous_id = reidentified.anonymous_id  -- noqa: RF03
        {{ per_row_lookup() }}
    ) as existing
    left join claims
        on existing.anonymous_id = claims.anonymous_id
    where existing.user_id is null
        and existing.person_id <> {{ person_id('null', 'claims.claimed_user_id', 'existing.anonymous_id') }}
        and not (
            (select reloads from limits)
            and existing.received_at >= (select received_from from limits)
            and existing.received_at < (select received_until from limits)
        )

),

{% else %}

events as (

    select * from {{ ref('stg_shared__events') }}

),

{% endif %}

campaign_events as (

    select
        event_id,
        {% for field in campaign_fields -%}
        lower({{ field }}) as {{ field }}{{ ',' if not loop.last }}
        {% endfor %}
    from events
    where coalesce({{ campaign_fields | join(', ') }}) is not null

),

campaign_values as (

    -- One row per event and set campaign field, so that rules match through equi-joins.
    {% for field in campaign_fields -%}
    select
        event_id,
        '{{ field }}' as match_field,
        {{ field }} as match_value
    from campaign_events
    where {{ field }} is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

channel_matches as (

    select
        campaign_values.event_id,
        channel_mapping.priority,
        channel_mapping.channel
    from campaign_values
    inner join channel_mapping
        on campaign_values.match_field = channel_mapping.match_field
        and campaign_values.match_value = channel_mapping.match_value

    union all

    select
        campaign_values.event_id,
        channel_mapping.priority,
        channel_mapping.channel
    from campaign_values
    inner join channel_mapping
        on campaign_values.match_field = channel_mapping.match_field
    where channel_mapping.match_value = '*'

),

ranked_matches as (

    select
        event_id,
        channel,
        row_number() over (
            partition by event_id
            order by priority, channel
        ) as match_rank
    from channel_matches

),

channels as (

    select
        event_id,
        channel
    from ranked_matches
    where match_rank = 1

),

final as (

    select
        events.event_id,
        events.product,
        events.event_name,
        {{ person_id('events.user_id', 'claims.claimed_user_id', 'events.anonymous_id') }} as person_id,
        events.user_id,
        events.anonymous_id,
        events.session_id,
        events.occurred_at,
        {{ utc_date('events.occurred_at') }} as occurred_date,
        events.sent_at,
        events.received_at,
        cast(channels.channel as text) as channel,
        events.utm_source,
        events.utm_medium,
        events.utm_campaign,
        events.utm_term,
        events.utm_content,
        events.fbclid,
        events.ttclid,
        events.gclid,
        events.utm_campaign as campaign_id,
        events.utm_content as ad_id,
        events.page_url,
        events.page_path,
        events.page_referrer,
        events.revenue,
        events.revenue_currency,
        events.stripe_charge_id,
        events.stripe_invoice_id,
        events.properties,
        events.context,
        events.library,
        {{ run_stamp() }} as built_at,
        {{ run_stamp() }} as first_built_at
    from events
    left join claims
        on events.user_id is null
        and events.anonymous_id = claims.anonymous_id
    left join channels
        on events.event_id = channels.event_id

)

select * from final
{% if is_incremental() %}
{{ merge_key_order('event_id') }}
{% endif %}
