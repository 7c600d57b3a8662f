{#- When each mart was last built, for the read API (docs/API.md, Caching): a post-hook of every
    mart writes its name, the start of the dbt run that built it and the run's id into
    `acd_mart_builds`, in the model's own transaction. The table is made by the warehouse's
    migrations; `on-run-start` makes it too, for a warehouse migrated before it existed. -#}

{% macro create_mart_builds() -%}
    create table if not exists {{ target.schema }}.acd_mart_builds (
        mart text primary key,
        built_at timestamp with time zone not null,
        invocation_id text not null
    )
{%- endmacro %}

{% macro forget_mart_build() -%}
    delete from {{ target.schema }}.acd_mart_builds where mart = '{{ this.identifier }}'
{%- endmacro %}

{% macro record_mart_build() -%}
    insert into {{ target.schema }}.acd_mart_builds (mart, built_at, invocation_id)
    values ('{{ this.identifier }}', {{ run_stamp() }}, '{{ invocation_id }}')
{%- endmacro %}
