{#- Stripe amounts are integers in the currency's minor unit (docs/METRICS.md, Conventions): zero-decimal
    currencies are not divided, three-decimal ones are divided by 1000, the rest by 100.
    Multiplying by a decimal literal keeps the result exact on both backends. -#}


{% macro currency_exponent(currency) -%}
    case
        when lower({{ currency }}) in ('bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf') then 0
        when lower({{ currency }}) in ('bhd', 'jod', 'kwd', 'omr', 'tnd') then 3
        else 2
    end
{%- endmacro %}

{% macro to_major_units(amount, currency) -%}
    {#- Each branch is cast on its own: a CASE over decimals of different scales would be
        unified to the smallest scale by DuckDB and lose the cents. -#}
    case {{ currency_exponent(currency) }}
        when 0 then cast(cast({{ amount }} as decimal(38, 0)) as decimal(38, 3))
        when 3 then cast(cast({{ amount }} as decimal(38, 0)) * 0.001 as decimal(38, 3))
        else cast(cast({{ amount }} as decimal(38, 0)) * 0.01 as decimal(38, 3))
    end
{%- endmacro %}
