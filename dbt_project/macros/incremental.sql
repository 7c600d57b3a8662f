{#- Change detection of the incremental models: fct_events and those downstream of it (see
    DECISIONLOG.md, "fct_events incrementality" and "Downstream incrementality"). -#}

{% macro changed_events(since) -%}
    {#- The fct_events rows added or changed (re-identified) by runs that started after `since`,
        a scalar from built_after(this): every row fct_events merges gets its run's stamp, so
        nothing older can have changed. Exact as long as dbt runs on one warehouse do not
        overlap (Dagster's dbt pool, DECISIONLOG.md "Downstream incrementality"). -#}
    select
        event_id,
        person_id,
        user_id,
        anonymous_id,
        event_name,
        product,
        occurred_at,
        received_at,
        channel,
        first_built_at
    from {{ ref('fct_events') }}
    where built_at > {{ since }}
{%- endmacro %}


{% macro merged_before_latest_run(events, latest_run) -%}
    {#- A condition on the fct_events rows `events` (with first_built_at): first merged by the
        calling model's latest run `latest_run` (its built_after(this)), so the model has seen
        them (merged again since, they may have a new person). A row first merged since is new
        to the model. After a rebuild of fct_events alone every first_built_at is new, so every
        row counts as seen. -#}
    {%- if rewritten_since_built(ref('fct_events'), latest_run) -%}
        1 = 1
    {%- else -%}
        {{ events }}.first_built_at <= {{ latest_run }}
    {%- endif -%}
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


{% macro affected_persons_ctes(latest_run) -%}
    {#- Three CTEs for the models kept per person (int_person_event_stats, int_person_products,
        fct_funnel_steps): `changed_events`, the fct_events rows written since the calling
        model's latest run `latest_run` (its built_after(this); macro changed_events); the
        `reidentified_anonymous_ids` of the anonymous ones among them that the model saw
        before (macro merged_before_latest_run); and `regrouped_persons`, every person such an
        event can have belonged to before or belong to now (its `anon:` person and each user
        that ever claimed its anonymous id) — the only persons that can have lost events.
        Those and the current person of each changed row are the affected persons, whose events
        can have changed; every other person of a changed row only gained events.
        The models read the persons' rows with a semi-join, `person_id in (select person_id
        from …)` over (a subset of) the affected persons: PostgreSQL knows no statistics
        of a CTE, and on an inner join it hashed all of fct_events rather than the persons
        (9.5 s at 10M events; the semi-join reads them through the person_id index). -#}
changed_events as materialized (

    {{ changed_events(latest_run) }}

),

reidentified_anonymous_ids as (

    -- Anonymous events the calling model saw before (first merged by then) that were merged
    -- again since: their person may have changed. One first merged since is new to the model,
    -- whatever person it had in between; after a rebuild of fct_events, every one counts.
    select distinct anonymous_id
    from changed_events
    where user_id is null
        and anonymous_id is not null
        and {{ merged_before_latest_run('changed_events', latest_run) }}

),

regrouped_persons as (

    select {{ person_id('null', 'null', 'anonymous_id') }} as person_id
    from reidentified_anonymous_ids

    union

    -- Every user that ever claimed one of those ids (the claim their events held before):
    -- through an event carrying both ids,
    select fct_events.user_id as person_id
    from {{ ref('fct_events') }} as fct_events
    inner join reidentified_anonymous_ids
        on fct_events.anonymous_id = reidentified_anonymous_ids.anonymous_id
    where fct_events.user_id is not null

    union

    -- through an alias (filtered on event_name first, so only aliases parse their JSON),
    select aliases.user_id as person_id
    from (
        select
            user_id,
            alias_previous_id
        from {{ ref('stg_shared__events') }}
        where event_name = 'alias'
            and user_id is not null
    ) as aliases
    inner join reidentified_anonymous_ids
        on aliases.alias_previous_id = reidentified_anonymous_ids.anonymous_id

    union

    -- or a shared_users row with that very id.
    select anonymous_id as person_id
    from reidentified_anonymous_ids

)
{%- endmacro %}


{% macro late_arrival_cutoff(relation, column) -%}
    {#- The newest `column` of `relation` less var('events_late_arrival_hours'), as a timestamp
        literal read when the model runs (the epoch when `relation` is empty): an incremental
        model re-reads the events received from then on. A literal, not a subquery, so that
        PostgreSQL reads the events by their received_at index (see newest_stamp). -#}
    {%- set newest = run_query('select max(' ~ column ~ ') from ' ~ relation).columns[0].values()[0] if execute else none -%}
    {%- if newest is none -%}
        {{ return("cast('1970-01-01T00:00:00+00:00' as timestamp with time zone)") }}
    {%- endif -%}
    {%- set cutoff = newest - modules.datetime.timedelta(hours=(var('events_late_arrival_hours') | float)) -%}
    {{ return("cast('" ~ cutoff.isoformat() ~ "' as timestamp with time zone)") }}
{%- endmacro %}


{% macro get_incremental_merge_recent_sql(arg_dict) -%}
    {#- Incremental strategy `merge_recent` (fct_events): dbt's merge, matched only against the
        stored rows received no earlier than the oldest row being merged. An event's
        received_at never changes (event_id is shared_events' key, and a re-sent event is
        ignored), so an older stored row cannot match one of them, and the merge reads the
        table's recent part instead of every stored event_id: DuckDB skips the row groups whose
        received_at range is older (the table grows in received_at order), PostgreSQL can read
        its received_at index. The oldest received_at is read from the rows to merge, as a
        literal (see newest_stamp). -#}
    {%- set oldest = run_query(
        'select min(received_at) from ' ~ arg_dict['temp_relation']).columns[0].values()[0] -%}
    {%- set predicates = arg_dict['incremental_predicates'] or [] -%}
    {%- if oldest is not none -%}
        {%- set predicates = predicates + [
            "DBT_INTERNAL_DEST.received_at >= cast('" ~ oldest.isoformat()
            ~ "' as timestamp with time zone)"] -%}
    {%- endif -%}
    {%- do arg_dict.update({'incremental_predicates': predicates}) -%}
    {{ return(get_incremental_merge_sql(arg_dict)) }}
{%- endmacro %}
