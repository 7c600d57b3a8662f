{#- Numbers served as strings by the ad platforms (Meta insights, TikTok reports): a decimal
    string becomes a decimal, anything else ("-", "", null) becomes null. -#}

{% macro parse_decimal(expr) -%}
    {{ return(adapter.dispatch('parse_decimal', 'acd_warehouse')(expr)) }}
{%- endmacro %}

{% macro duckdb__parse_decimal(expr) -%}
    try_cast(trim({{ expr }}) as decimal(38, 6))
{%- endmacro %}

{% macro postgres__parse_decimal(expr) -%}
    case
        when trim({{ expr }}) ~ '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)$'
            then cast(trim({{ expr }}) as numeric(38, 6))
    end
{%- endmacro %}


{#- A count served as a string ("185", "185.0", "-", null): a bigint, or null. -#}
{% macro parse_count(expr) -%}
    cast({{ parse_decimal(expr) }} as bigint)
{%- endmacro %}


{#- Wilson score interval of a binomial proportion (successes out of trials), z = 1.96 for 95%.
    Null when there are no trials. Double precision on both backends. -#}
{% macro wilson_lower(successes, trials, z=1.96) -%}
    case
        when {{ trials }} > 0 then (
            (cast({{ successes }} as double precision) / {{ trials }})
            + {{ z }} * {{ z }} / (2.0 * {{ trials }})
            - {{ z }} * sqrt(
                (cast({{ successes }} as double precision) / {{ trials }})
                * (1 - cast({{ successes }} as double precision) / {{ trials }}) / {{ trials }}
                + {{ z }} * {{ z }} / (4.0 * {{ trials }} * {{ trials }})
            )
        ) / (1 + {{ z }} * {{ z }} / {{ trials }})
    end
{%- endmacro %}

{% macro wilson_upper(successes, trials, z=1.96) -%}
    case
        when {{ trials }} > 0 then (
            (cast({{ successes }} as double precision) / {{ trials }})
            + {{ z }} * {{ z }} / (2.0 * {{ trials }})
            + {{ z }} * sqrt(
                (cast({{ successes }} as double precision) / {{ trials }})
                * (1 - cast({{ successes }} as double precision) / {{ trials }}) / {{ trials }}
                + {{ z }} * {{ z }} / (4.0 * {{ trials }} * {{ trials }})
            )
        ) / (1 + {{ z }} * {{ z }} / {{ trials }})
    end
{%- endmacro %}


{#- a / b, null when b is 0 or null (ratios of docs/METRICS.md, Creative performance). -#}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as double precision) / nullif(cast({{ denominator }} as double precision), 0))
{%- endmacro %}
