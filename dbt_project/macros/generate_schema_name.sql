{#- Models land in exactly the schema they configure (staging, intermediate, marts), not in
    dbt's default `<target schema>_<custom>`: the schema names are those of docs/REFERENCE.md, dbt schemas. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
