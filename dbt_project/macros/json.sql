{#- JSON access, the main dialect difference between DuckDB (json) and PostgreSQL (jsonb).
    `path` is a list of keys, e.g. json_text('context', ['campaign', 'source']). -#}

{% macro json_text(column, path) -%}
    {{ return(adapter.dispatch('json_text', 'acd_warehouse')(column, path)) }}
{%- endmacro %}

{% macro duckdb__json_text(column, path) -%}
    json_extract_string({{ column }}, '$.{{ path | join(".") }}')
{%- endmacro %}

{% macro postgres__json_text(column, path) -%}
    ({{ column }} #>> '{ {{- path | join(",") -}} }')
{%- endmacro %}


{#- The JSON value at `path` (an object or array), still JSON. -#}
{% macro json_value(column, path) -%}
    {{ return(adapter.dispatch('json_value', 'acd_warehouse')(column, path)) }}
{%- endmacro %}

{% macro duckdb__json_value(column, path) -%}
    json_extract({{ column }}, '$.{{ path | join(".") }}')
{%- endmacro %}

{% macro postgres__json_value(column, path) -%}
    ({{ column }} #> '{ {{- path | join(",") -}} }')
{%- endmacro %}


{#- A FROM-clause item that yields one row per element of the JSON array at `path` in
    `column`, as `<alias>.value` (JSON). Use after a comma or `cross join lateral`. -#}
{% macro json_array_elements(column, path, alias) -%}
    {{ return(adapter.dispatch('json_array_elements', 'acd_warehouse')(column, path, alias)) }}
{%- endmacro %}

{% macro duckdb__json_array_elements(column, path, alias) -%}
    json_each({{ column }}, '$.{{ path | join(".") }}') as {{ alias }}
{%- endmacro %}

{% macro postgres__json_array_elements(column, path, alias) -%}
    jsonb_array_elements(
        case
            when jsonb_typeof({{ column }} #> '{ {{- path | join(",") -}} }') = 'array'
                then {{ column }} #> '{ {{- path | join(",") -}} }'
            else '[]'::jsonb
        end
    ) as {{ alias }}(value)
{%- endmacro %}


{#- Text of a JSON value produced by json_array_elements / json_value (a scalar or object). -#}
{% macro json_element_text(value, key) -%}
    {{ return(adapter.dispatch('json_element_text', 'acd_warehouse')(value, key)) }}
{%- endmacro %}

{% macro duckdb__json_element_text(value, key) -%}
    json_extract_string({{ value }}, '$.{{ key }}')
{%- endmacro %}

{% macro postgres__json_element_text(value, key) -%}
    ({{ value }} ->> '{{ key }}')
{%- endmacro %}
