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


{#- A FROM-clause item that yields one row per element of the JSON array `json_expr`, as
    `<alias>.value` (JSON), and no rows when `json_expr` is null or not an array (DuckDB's
    json_each would iterate an object's members). The one way to iterate a JSON array: for an
    array inside a column pass json_value(column, path); for JSON held in text,
    parse_json_string(expr). Use after a comma or `cross join lateral`. -#}
{% macro json_array_elements(json_expr, alias) -%}
    {{ return(adapter.dispatch('json_array_elements', 'acd_warehouse')(json_expr, alias)) }}
{%- endmacro %}

{% macro duckdb__json_array_elements(json_expr, alias) -%}
    json_each(
        case
            when json_type({{ json_expr }}) = 'ARRAY' then {{ json_expr }}
            else cast('[]' as json)
        end
    ) as {{ alias }}
{%- endmacro %}

{% macro postgres__json_array_elements(json_expr, alias) -%}
    jsonb_array_elements(
        case when jsonb_typeof({{ json_expr }}) = 'array' then {{ json_expr }} else '[]'::jsonb end
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


{#- The JSON value held in the text `expr` (Stripe metadata values are strings, e.g.
    `bundle_products`); null when `expr` is null or not JSON. -#}
{% macro parse_json_string(expr) -%}
    {{ return(adapter.dispatch('parse_json_string', 'acd_warehouse')(expr)) }}
{%- endmacro %}

{% macro duckdb__parse_json_string(expr) -%}
    case when json_valid({{ expr }}) then cast({{ expr }} as json) end
{%- endmacro %}

{% macro postgres__parse_json_string(expr) -%}
    {#- PostgreSQL < 16 has no `is json`: only text that looks like a JSON array or object is
        cast (Stripe metadata we parse is written by our own checkout code). -#}
    case when left(ltrim({{ expr }}), 1) in ('[', '{') then cast({{ expr }} as jsonb) end
{%- endmacro %}
