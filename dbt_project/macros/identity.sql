{#- docs/METRICS.md, Identity: '', null, 'undefined', '0', '-1', 'anonymous', 'guest' (any case, surrounding
    blanks ignored) are never identifiers. The text 'null' is treated like null. Returns the
    trimmed value, or null when it is blocked. -#}
{% macro identifier_or_null(column) -%}
    case
        when {{ column }} is null then null
        when lower(trim({{ column }})) in ('', 'null', 'undefined', '0', '-1', 'anonymous', 'guest') then null
        else trim({{ column }})
    end
{%- endmacro %}

{#- An email as a join key: trimmed, lower-case, null when blank. -#}
{% macro normalized_email(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}

{#- docs/METRICS.md, Identity: the person of an event is its user, else the user that first claimed its
    anonymous id, else `anon:<anonymous_id>`. -#}
{% macro person_id(user_id, claimed_user_id, anonymous_id) -%}
    coalesce(
        {{ user_id }},
        {{ claimed_user_id }},
        case when {{ anonymous_id }} is not null then {{ dbt.concat(["'anon:'", anonymous_id]) }} end
    )
{%- endmacro %}
