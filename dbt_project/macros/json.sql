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


{#- Whether the JSON object at `path` has at least one of `keys` set (present, not JSON null),
    as json_text(column, path + [key]) is not null for any key would say. -#}
{% macro json_has_any_key(column, path, keys) -%}
    {{ return(adapter.dispatch('json_has_any_key', 'acd_warehouse')(column, path, keys)) }}
{%- endmacro %}

{% macro default__json_has_any_key(column, path, keys) -%}
    (coalesce(
        {%- for key in keys %}
        {{ json_text(column, path + [key]) }}{{ ',' if not loop.last }}
        {%- endfor %}
    ) is not null)
{%- endmacro %}

{#- One test of the object's keys, not one extraction per key: PostgreSQL inlines a view's
    expressions into each use, and stg_shared__events uses this flag in eight columns (64 key
    extractions per event made its campaign columns cost 6.2–7.1 s per million events, 3.4–4.0 s
    now, one core). -#}
{% macro postgres__json_has_any_key(column, path, keys) -%}
    coalesce(
        jsonb_typeof({{ json_value(column, path) }}) = 'object'
        and jsonb_strip_nulls({{ json_value(column, path) }}) ?| array['{{ keys | join("', '") }}'],
        false
    )
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
