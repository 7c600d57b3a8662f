{#- Planner hints for PostgreSQL, as model hooks; nothing on DuckDB. -#}

{% macro analyze_relation() -%}
    {#- A post-hook: fresh statistics for a table dbt just created, so the models that read it
        in the same run are planned from its real row counts (autovacuum analyzes too late). -#}
    {{ return(adapter.dispatch('analyze_relation', 'acd_warehouse')()) }}
{%- endmacro %}

{% macro default__analyze_relation() -%}{%- endmacro %}

{% macro postgres__analyze_relation() -%}
    {%- if config.get('materialized') in ('table', 'incremental') -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}


{% macro hash_joins_only() -%}
    {#- A pre-hook, for models that chain joins through CTEs filtered on window ranks: their row
        estimates collapse to 1, and PostgreSQL then nests loops over tens of thousands of rows
        (see DECISIONLOG.md, "PostgreSQL sessions"). `set local` lasts for the model's
        transaction. -#}
    {{ return(adapter.dispatch('hash_joins_only', 'acd_warehouse')()) }}
{%- endmacro %}

{% macro default__hash_joins_only() -%}{%- endmacro %}

{% macro postgres__hash_joins_only() -%}
    set local enable_nestloop = off
{%- endmacro %}


{% macro per_row_lookup() -%}
    {#- Ends a LATERAL subquery read by an index: PostgreSQL then runs it once per outer row
        (OFFSET 0 keeps the planner from merging it into a join, where it read the whole
        index), even under hash_joins_only. Nothing on DuckDB, which hash-joins it. -#}
    {{ return(adapter.dispatch('per_row_lookup', 'acd_warehouse')()) }}
{%- endmacro %}

{% macro default__per_row_lookup() -%}{%- endmacro %}

{% macro postgres__per_row_lookup() -%}
    offset 0
{%- endmacro %}


{% macro postgres_indexes(indexes) -%}
    {#- A model's `indexes` config on PostgreSQL (the lookups of incremental runs and of their
        tests); none on DuckDB, where dbt-duckdb would build ART indexes that slow every merge
        and made a full refresh's backup rename fail, and column scans need none. -#}
    {{ return(indexes if target.type == 'postgres' else []) }}
{%- endmacro %}


{% macro merge_key_order(unique_key) -%}
    {#- The ORDER BY of an incremental run's rows on PostgreSQL. The merge probes the unique
        index of `unique_key` once per row; in key order the probes walk the index's pages in
        order instead of at random (333k rows into a 10M-row fct_events: 12.1–13.4 s → 9.3–9.7 s,
        the sort 0.2 s). Nothing on DuckDB, whose merge hash-joins. -#}
    {{ return(adapter.dispatch('merge_key_order', 'acd_warehouse')(unique_key)) }}
{%- endmacro %}

{% macro default__merge_key_order(unique_key) -%}{%- endmacro %}

{% macro postgres__merge_key_order(unique_key) -%}
    order by {{ unique_key }}
{%- endmacro %}
