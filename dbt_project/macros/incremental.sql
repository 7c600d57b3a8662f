{#- Shared by the incremental models downstream of fct_events (see DECISIONLOG.md,
    "Downstream incrementality"). -#}

{% macro events_received_after(stored_received_at) -%}
    {#- The re-read horizon of an incremental model that stores, per row, the received_at of an
        event it was built from: `events_late_arrival_hours` before the newest such value (every
        value it holds was in fct_events at its last run, so this is at or before the horizon
        fct_events itself used since). An empty model re-reads everything. -#}
    {{ dbt.dateadd(
        'hour',
        -1 * var('events_late_arrival_hours'),
        "coalesce(max(" ~ stored_received_at ~ "), cast('1970-01-01 00:00:00+00' as timestamp with time zone))",
    ) }}
{%- endmacro %}


{% macro changed_events(received_after) -%}
    {#- A superset of the fct_events rows added or changed since `received_after` (a scalar SQL
        expression from events_received_after): the events received since, plus the anonymous
        events whose person may have changed because their anonymous id was claimed (or a claim
        was overruled) since. A claim changes only through a newer event carrying the anonymous
        id with a user id, an alias naming it, an event whose user id equals it (an alias of a
        known user id is no claim), or a shared_users row with that id; the last has no load
        stamp, so anonymous ids equal to any user id are always re-read (in practice none).
        An event may appear twice (callers only test membership). -#}
    select
        event_id,
        person_id,
        user_id,
        anonymous_id,
        event_name,
        product,
        occurred_at,
        received_at,
        channel
    from {{ ref('fct_events') }}
    where received_at >= {{ received_after }}

    union all

    select
        events.event_id,
        events.person_id,
        events.user_id,
        events.anonymous_id,
        events.event_name,
        events.product,
        events.occurred_at,
        events.received_at,
        events.channel
    from {{ ref('fct_events') }} as events
    inner join (
        select anonymous_id as identifier
        from {{ ref('fct_events') }}
        where received_at >= {{ received_after }}
            and user_id is not null
            and anonymous_id is not null
        union
        select user_id as identifier
        from {{ ref('fct_events') }}
        where received_at >= {{ received_after }}
            and user_id is not null
        union
        select alias_previous_id as identifier
        from {{ ref('stg_shared__events') }}
        where received_at >= {{ received_after }}
            and event_name = 'alias'
            and alias_previous_id is not null
        union
        select user_id as identifier
        from {{ ref('stg_shared__users') }}
        where user_id is not null
    ) as reclaimable
        on events.anonymous_id = reclaimable.identifier
    where events.user_id is null
{%- endmacro %}


{% macro distinct_from(left, right) -%}
    ({{ left }} <> {{ right }} or ({{ left }} is null) <> ({{ right }} is null))
{%- endmacro %}


{% macro received_window() -%}
    {#- The partition window [from, until) of an orchestrated run, passed as the vars
        `events_received_from` and `events_received_until` (ISO timestamps with a UTC offset,
        e.g. 2026-11-23T00:00:00+00:00), as a dict of the two; none when neither is set. -#}
    {%- set bounds = {
        'events_received_from': var('events_received_from', none),
        'events_received_until': var('events_received_until', none),
    } -%}
    {%- set given = bounds.values() | reject('none') | list -%}
    {%- if given | length == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {#- [0-9] and [.], not backslash escapes, which Jinja's string literals warn about. -#}
    {%- set iso = '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?([+-][0-9]{2}:[0-9]{2}|Z)$' -%}
    {%- for name, value in bounds.items() -%}
        {%- if value is none -%}
            {{ exceptions.raise_compiler_error(
                "var " ~ name ~ " is missing: events_received_from and events_received_until go together") }}
        {%- elif not modules.re.match(iso, value | string) -%}
            {{ exceptions.raise_compiler_error(
                "var " ~ name ~ " must be an ISO timestamp with a UTC offset, e.g. "
                ~ "2026-11-23T00:00:00+00:00; got " ~ (value | string)[:40]) }}
        {%- endif -%}
    {%- endfor -%}
    {%- set window = {
        'from': modules.datetime.datetime.fromisoformat((bounds.events_received_from | string).replace('Z', '+00:00')),
        'until': modules.datetime.datetime.fromisoformat((bounds.events_received_until | string).replace('Z', '+00:00')),
    } -%}
    {%- if window['from'] >= window['until'] -%}
        {{ exceptions.raise_compiler_error(
            "var events_received_from must be before events_received_until; got "
            ~ bounds.events_received_from ~ " and " ~ bounds.events_received_until) }}
    {%- endif -%}
    {{ return({'from': window['from'].isoformat(), 'until': window['until'].isoformat()}) }}
{%- endmacro %}
