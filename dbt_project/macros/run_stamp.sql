{#- The run stamp. The incremental models stamp every row they write with the start of the dbt
    run that wrote it (`built_at`). The models downstream of fct_events read the rows stamped
    after their own newest stamp (macro changed_events), and the tests of the incremental marts
    check the rows of the latest run: those are the rows that run added or changed, and rows it
    left alone passed the same tests when they were written. A full build stamps every row, so
    it tests everything; so does `--vars '{test_all_rows: true}'` on any run (DECISIONLOG.md,
    "Downstream incrementality" and "Tests of incremental marts"). -#}

{% macro run_stamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}+00:00' as timestamp with time zone)
{%- endmacro %}


{% macro newest_stamp(relation) -%}
    {#- The start of the newest run that wrote `relation` (its newest `built_at`) as a timestamp
        literal, read when the caller runs; none when it is empty. A literal, not a subquery:
        PostgreSQL estimates `built_at > (subquery)` at a third of the table and then plans full
        scans where a few rows changed; with a literal it reads the real share from the
        column's statistics. -#}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set newest = run_query('select max(built_at) from ' ~ relation).columns[0].values()[0] -%}
    {%- if newest is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return("cast('" ~ newest.isoformat() ~ "' as timestamp with time zone)") }}
{%- endmacro %}


{% macro built_after(relation) -%}
    {#- The newest stamp of `relation` (newest_stamp); the epoch when it is empty. -#}
    {{ newest_stamp(relation) or "cast('1970-01-01T00:00:00+00:00' as timestamp with time zone)" }}
{%- endmacro %}


{% macro rewritten_since_built(relation, latest_run) -%}
    {#- Whether every row of `relation` was written after the calling model's latest run
        `latest_run` (its built_after(this); the built_at index makes this cheap on
        PostgreSQL): `relation` was rebuilt (--full-refresh) or wholly merged again, so its
        stamps no longer tell what the caller has seen. -#}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set query -%}
        select min(built_at) > {{ latest_run }} from {{ relation }}
    {%- endset -%}
    {{ return(run_query(query).columns[0].values()[0] is true) }}
{%- endmacro %}


{% macro latest_run_rows(relation) -%}
    {#- `relation`'s rows written by its latest run, as a subquery to select from. -#}
    {%- if var('test_all_rows', false) -%}
        (select * from {{ relation }}) as all_rows
    {%- else -%}
        (
            select * from {{ relation }}
            where built_at = {{ newest_stamp(relation) or 'null' }}
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


{% macro in_stamped_dates(column, relation, date_column, latest_run) -%}
    {#- `column in (…)`: the distinct `date_column` values of `relation`'s rows stamped after
        the calling model's own newest stamp `latest_run` (its built_after(this)), read before
        the model runs and written as literals, so that PostgreSQL plans with the real dates (a
        subquery is estimated to hold every date, and the plan then scans the whole table). -#}
    {%- set query -%}
        select distinct {{ date_column }} from {{ relation }}
        where built_at > {{ latest_run }}
        order by 1
    {%- endset -%}
    {%- set dates = run_query(query).columns[0].values() if execute else [] -%}
    {%- if dates | length == 0 -%}
        1 = 0
    {%- else -%}
        {{ column }} in (
            {%- for day in dates -%}
            cast('{{ day }}' as date){{ ', ' if not loop.last }}
            {%- endfor -%}
        )
    {%- endif -%}
{%- endmacro %}
