{#- The run stamp. The incremental models stamp every row they write with the start of the dbt
    run that wrote it (`built_at`). The this-run models read the rows stamped after the
    manifest's progress (docs/INCREMENTAL.md), and the tests of the incremental marts check the
    rows of the latest run: those are the rows that run added or changed, and rows it left
    alone passed the same tests when they were written. A full build stamps every row, so it
    tests everything; so does `--vars '{test_all_rows: true}'` on any run (DECISIONLOG.md,
    "Tests of incremental marts"). -#}

{% macro run_stamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}+00:00' as timestamp with time zone)
{%- endmacro %}


{% macro latest_run_rows(relation) -%}
    {#- `relation`'s rows written by its latest run, as a subquery to select from. The newest
        stamp is read before the test runs and written as a literal: PostgreSQL estimates
        `built_at = (subquery)` at a share of the table per distinct stamp, and then scans all
        of fct_events to test the few rows of an incremental run. -#}
    {%- if var('test_all_rows', false) -%}
        (select * from {{ relation }}) as all_rows
    {%- else -%}
        {%- set newest = run_query('select max(built_at) from ' ~ relation).columns[0].values()[0] if execute else none -%}
        (
            select * from {{ relation }}
            where built_at = {{ "cast('" ~ newest.isoformat() ~ "' as timestamp with time zone)" if newest is not none else 'null' }}
        ) as latest_run_rows
    {%- endif -%}
{%- endmacro %}


{% macro get_where_subquery(relation) -%}
    {#- dbt's hook for a data test's `where` config: `where: __latest_run__` tests the rows of the
        latest run (above); any other `where` is dbt's own filter. -#}
    {%- if config.get('where') == '__latest_run__' -%}
        {{ return(latest_run_rows(relation)) }}
    {%- endif -%}
    {{ return(dbt.default__get_where_subquery(relation)) }}
{%- endmacro %}
