{#- Models land in exactly the schema they configure (staging, intermediate, marts), not in
    dbt's default `<target schema>_<custom>`: SPEC §5.3 names the schemas. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
