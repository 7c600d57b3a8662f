{#- Time helpers that read the same on both backends. -#}

{#- The UTC calendar date of a timestamptz (independent of the session time zone). -#}
{% macro utc_date(ts) -%}
    cast(({{ ts }}) at time zone 'UTC' as date)
{%- endmacro %}

{#- Seconds between two timestamps as a fractional number (b - a). -#}
{% macro seconds_between(a, b) -%}
    (extract(epoch from {{ b }}) - extract(epoch from {{ a }}))
{%- endmacro %}

{#- A Unix epoch (seconds, as stored by Stripe) as timestamptz. -#}
{% macro from_unix_seconds(epoch) -%}
    to_timestamp(cast({{ epoch }} as bigint))
{%- endmacro %}
