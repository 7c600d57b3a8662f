{#- JSON held in a text value (Stripe metadata values are strings, e.g. `bundle_products`):
    parse it, and iterate a top-level JSON array. -#}

{#- The JSON value of the text `expr`; null when `expr` is null or not JSON. -#}
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


{#- A FROM-clause item yielding one row per element of the top-level JSON array `json_expr`,
    as `<alias>.value` (no rows when it is not an array). -#}
{% macro json_array_items(json_expr, alias) -%}
    {{ return(adapter.dispatch('json_array_items', 'acd_warehouse')(json_expr, alias)) }}
{%- endmacro %}

{% macro duckdb__json_array_items(json_expr, alias) -%}
    json_each(
        case when json_type({{ json_expr }}) = 'ARRAY' then {{ json_expr }} else cast('[]' as json) end
    ) as {{ alias }}
{%- endmacro %}

{% macro postgres__json_array_items(json_expr, alias) -%}
    jsonb_array_elements(
        case when jsonb_typeof({{ json_expr }}) = 'array' then {{ json_expr }} else '[]'::jsonb end
    ) as {{ alias }}(value)
{%- endmacro %}
