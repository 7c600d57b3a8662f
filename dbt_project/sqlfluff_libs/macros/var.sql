{#- dbt's `var` for sqlfluff's jinja templater: values of the right type for rendering the
    models (sqlfluff's own stand-in returns a string for every var). dbt never reads this. -#}
{% macro var(name, default=none) -%}
    {%- set lint_values = {
        'attribution_lookback_days': 28,
        'attribution_half_life_days': 7,
        'conversion_event_names': ['purchase_completed', 'signup_completed'],
        'funnel_max_steps': 10,
        'pct_min_impressions': 1000,
        'entitlement_grace_minutes': 15,
        'events_late_arrival_hours': 72,
    } -%}
    {{ return(lint_values.get(name, default)) }}
{%- endmacro %}
