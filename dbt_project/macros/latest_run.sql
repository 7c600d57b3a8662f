{#- The incremental marts stamp every row they write with the start of the dbt run that wrote it
    (`built_at`), and their tests check the rows of the latest run: those are the rows that run
    added or changed, and rows it left alone passed the same tests when they were written. A
    full build stamps every row, so it tests everything; so does `--vars '{test_all_rows: true}'`
    on any run (DECISIONLOG.md, "Tests of incremental marts"). -#}

{% macro run_stamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}+00:00' as timestamp with time zone)
{%- endmacro %}


{% macro latest_run_rows(relation) -%}
    {#- `relation`'s rows written by its latest run, as a subquery to select from. -#}
    {%- if var('test_all_rows', false) -%}
        (select * from {{ relation }}) as all_rows
    {%- else -%}
        (
            select * from {{ relation }}
            where built_at = (select max(built_at) from {{ relation }})
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
