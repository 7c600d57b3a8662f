{#- One row per event: shared_events with its person (docs/METRICS.md, Identity), campaign fields and channel
    (docs/METRICS.md, Channels). Incremental, merged on event_id, in one of two modes:
    - a partition run (Dagster passes the partition window as the vars events_received_from /
      events_received_until, see macro received_window): every event received in the window,
      loaded or not, so that a backfill rebuilds exactly its days;
    - otherwise (`acd-warehouse build`, plain dbt): the events received in the last
      `events_late_arrival_hours` before the newest row it holds that are not loaded yet.
    Either way also the already-loaded anonymous events whose person changed because their
    anonymous id was claimed (int_anonymous_ids_claimed stamps the claims it changes) since
    this model's latest run (a claim today changes a person's past, whatever its day). Every
    row merged is stamped with the run's start (`built_at`) and keeps the stamp of the run that
    first merged it (`first_built_at`): the models downstream read what changed by the one and
    what is new to them by the other. With windows that cover every day that received events,
    the rows of a full refresh. -#}

{#- merge_recent (macros/incremental.sql): dbt's merge, matched against the stored rows received
    since the oldest merged row only. merge_exclude_columns: a row merged again keeps the stamp
    of the run that first merged it. -#}
{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='merge_recent',
        merge_exclude_columns=['first_built_at'],
        on_schema_change='fail',
        tags=['partitioned'],
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

-- depends_on: {{ ref('stg_shared__users') }}

{% set campaign_fields = ['utm_source', 'utm_medium', 'utm_campaign', 'fbclid', 'ttclid', 'gclid'] %}
{#- The columns of stg_shared__events that fct_events keeps as they are. -#}
{% set event_columns = [
    'event_id', 'product', 'event_name', 'user_id', 'anonymous_id', 'session_id', 'occurred_at',
    'sent_at', 'received_at', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_term',
    'utm_content', 'fbclid', 'ttclid', 'gclid', 'page_url', 'page_path', 'page_referrer',
    'revenue', 'revenue_currency', 'stripe_charge_id', 'stripe_invoice_id', 'properties',
    'context', 'library',
] %}
{#- Checked on every run, so bad vars fail even where a first build would not use them. -#}
{% set window = received_window() %}
{% if window is not none %}
    {% set window_from = "cast('" ~ window.from ~ "' as timestamp with time zone)" %}
    {% set window_until = "cast('" ~ window.until ~ "' as timestamp with time zone)" %}
{% endif %}

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

{% if window is not none %}

recent_events as (

    select staged.*
    from {{ ref('stg_shared__events') }} as staged
    where staged.received_at >= {{ window_from }}
        and staged.received_at < {{ window_until }}

),

{% else %}

{% set received_after = late_arrival_cutoff(this, 'received_at') %}

already_loaded as (

    -- shared_events rows never change once stored (event_id is their primary key), so the
    -- late-arrival window only needs the events not merged yet.
    select existing.event_id
    from {{ this }} as existing
    where existing.received_at >= {{ received_after }}

),

recent_events as (

    -- The cutoff as a literal, not a join: PostgreSQL then filters shared_events on its
    -- received_at index before the view parses any JSON (a join filter parsed every row).
    select staged.*
    from {{ ref('stg_shared__events') }} as staged
    left join already_loaded
        on staged.event_id = already_loaded.event_id
    where staged.received_at >= {{ received_after }}
        and already_loaded.event_id is null

),

{% endif %}

reclaimable as (

    -- The ids whose claim changed since this model's latest run: those int_anonymous_ids_claimed
    -- wrote since (new or moved claims), and the ids of voided alias claims: an alias claim is
    -- void once its previous_id turns out to be a user id (of an event this run merges, or of
    -- shared_users), and its row is deleted then, so there is no stamp to read. The stored
    -- anonymous events of other ids keep their person.
    select anonymous_id as identifier
    from {{ ref('int_anonymous_ids_claimed') }}
    where built_at > {{ built_after(this) }}
    union
    select aliased.alias_previous_id as identifier
    from {{ ref('stg_shared__events') }} as aliased
    where aliased.event_name = 'alias'
        and aliased.alias_previous_id in (
            select user_id from recent_events
            union all
            select user_id from {{ ref('stg_shared__users') }}
        )

),

reidentified_events as (

    -- Anonymous events already loaded whose person is no longer what the claims say, re-read
    -- from the table itself (an event never changes but for its person): a join back to the
    -- staging view made PostgreSQL parse the JSON of every stored event.
    select
        {% for column in event_columns -%}
        existing.{{ column }}{{ ',' if not loop.last }}
        {% endfor %}
    from {{ this }} as existing
    inner join reclaimable
        on existing.anonymous_id = reclaimable.identifier
    left join claims
        on existing.anonymous_id = claims.anonymous_id
    where existing.user_id is null
        and existing.anonymous_id is not null
        and existing.person_id <> {{ person_id('null', 'claims.claimed_user_id', 'existing.anonymous_id') }}
        {% if window is not none -%}
        -- those received inside the window are among recent_events already
        and (existing.received_at < {{ window_from }} or existing.received_at >= {{ window_until }})
        {%- endif %}

),

events as (

    select
        {% for column in event_columns -%}
        {{ column }}{{ ',' if not loop.last }}
        {% endfor %}
    from recent_events
    union all
    select * from reidentified_events

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
