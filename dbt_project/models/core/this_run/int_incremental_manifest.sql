{#- One row per incremental model: how far it has applied the changes upstream of it
    (docs/INCREMENTAL.md). The on-run-end hook `record_progress` writes a model's row after
    a run that built it from fresh this-run tables:
    - `changes_until`: that run's stamp. The model has applied every upstream row stamped up
      to it (fct_events: the claims; the models downstream of fct_events: fct_events' rows and
      the conversions int_conversions_valued wrote).
    - `received_until` (fct_events only): the newest received_at it holds.
    int_run_limits reads it at the start of the next run. Never rebuilt (`full_refresh: false`),
    and every run after the first adds no row. Its first build starts from the models' latest
    builds in acd_mart_builds and fct_events' newest received_at, for a warehouse built before
    the manifest existed (nothing on a new warehouse). -#}

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        full_refresh=false,
        on_schema_change='fail',
    )
}}

{% if is_incremental() %}

select
    cast(null as {{ dbt.type_string() }}) as model,
    cast(null as timestamp with time zone) as changes_until,
    cast(null as timestamp with time zone) as received_until
where 1 = 0

{% else %}

{#- fct_events as built before the manifest existed, if it was (its relation, not a ref:
    fct_events is built after this model). -#}
{% set events = graph.nodes.get('model.' ~ project_name ~ '.fct_events') if execute else none %}
{% set events = adapter.get_relation(events.database, events.schema, events.alias) if events else none %}

select
    cast(mart as {{ dbt.type_string() }}) as model,
    cast(built_at as timestamp with time zone) as changes_until,
    cast(
        case when mart = 'fct_events' then {{ '(select max(received_at) from ' ~ events ~ ')' if events else 'null' }} end
        as timestamp with time zone
    ) as received_until
from {{ target.schema }}.acd_mart_builds

{% endif %}
