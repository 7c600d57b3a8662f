{#- The limits of this run, computed once at its start (docs/INCREMENTAL.md): one row, read
    by the incremental models' this-run inputs.
    - `received_from` / `received_until`: the received_at range fct_events merges. In a
      partition run (Dagster passes the vars events_received_from / events_received_until, ISO
      timestamps with a UTC offset) the window, loaded events included (`reloads`); otherwise
      the events received from `new_events_from` on that are not loaded yet.
    - `new_events_from`: events_late_arrival_hours before the newest received_at fct_events
      holds (int_incremental_manifest; the epoch without it).
    - `claims_received_from`: the earlier of new_events_from and received_from. An incremental
      int_anonymous_ids_claimed reads the claims of the events received since: those of the
      late-arrival cutoff and of a partition window.
    - `claims_changed_after`: the run up to which fct_events has applied the claims.
    - `changed_after`: the oldest run up to which an incremental model downstream of fct_events
      has applied its changes.
    Both are null in a full refresh, and on a new warehouse: nothing is recomputed from
    changes then, the incremental models being built whole. -#}

{#- The partition window, checked on every run, so bad vars fail even where a full build would
    not use them. [0-9] and [.]: Jinja's string literals warn about backslash escapes. -#}
{% set bounds = {
    'events_received_from': var('events_received_from', none),
    'events_received_until': var('events_received_until', none),
} %}
{% set iso = '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?([+-][0-9]{2}:[0-9]{2}|Z)$' %}
{% set window = {} %}
{% if bounds.values() | reject('none') | list %}
    {% for name, value in bounds.items() %}
        {% if value is none %}
            {{ exceptions.raise_compiler_error(
                "var " ~ name ~ " is missing: events_received_from and events_received_until go together") }}
        {% elif not modules.re.match(iso, value | string) %}
            {{ exceptions.raise_compiler_error(
                "var " ~ name ~ " must be an ISO timestamp with a UTC offset, e.g. "
                ~ "2026-11-23T00:00:00+00:00; got " ~ (value | string)[:40]) }}
        {% endif %}
        {% do window.update({name: modules.datetime.datetime.fromisoformat((value | string).replace('Z', '+00:00'))}) %}
    {% endfor %}
    {% if window.events_received_from >= window.events_received_until %}
        {{ exceptions.raise_compiler_error(
            "var events_received_from must be before events_received_until; got "
            ~ bounds.events_received_from ~ " and " ~ bounds.events_received_until) }}
    {% endif %}
{% endif %}

{#- The incremental models that apply fct_events' changes (macro downstream_incremental_models). -#}
{% set downstream = downstream_incremental_models() %}

with

progress as (

    select * from {{ ref('int_incremental_manifest') }}

),

new_events as (

    select coalesce(
        (
            select {{ dbt.dateadd("second", (-3600 * (var("events_late_arrival_hours") | float)) | int, "received_until") }}
            from progress
            where model = 'fct_events'
        ),
        cast('1970-01-01T00:00:00+00:00' as timestamp with time zone)
    ) as new_events_from

),

received as (

    select
        {% if window -%}
        cast('{{ window.events_received_from.isoformat() }}' as timestamp with time zone) as received_from,
        cast('{{ window.events_received_until.isoformat() }}' as timestamp with time zone) as received_until,
        true as reloads,
        {%- else -%}
        new_events_from as received_from,
        cast('9999-01-01T00:00:00+00:00' as timestamp with time zone) as received_until,
        false as reloads,
        {%- endif %}
        new_events_from
    from new_events

)

select
    received_from,
    received_until,
    reloads,
    new_events_from,
    least(new_events_from, received_from) as claims_received_from,
    {% if flags.FULL_REFRESH -%}
    cast(null as timestamp with time zone) as claims_changed_after,
    cast(null as timestamp with time zone) as changed_after
    {%- else -%}
    (
        select changes_until from progress
        where model = 'fct_events'
    ) as claims_changed_after,
    (
        select min(changes_until) from progress
        where model in ('{{ downstream | join("', '") }}')
    ) as changed_after
    {%- endif %}
from received
