{#- One row per conversion (docs/METRICS.md, Attribution): an event named in var('conversion_event_names'),
    valued at the Stripe charge's or invoice's amount net of refunds when its properties name
    ingested Stripe data, else at properties.revenue, else 0. Currency upper-case ISO-4217.
    Incremental (delete+insert by conversion_event_id): a run values the conversion events of
    int_events_this_run (new or re-identified) and revalues the stored conversions naming a
    Stripe charge or invoice (a refund or a late Stripe load changes their value without
    touching the event), and writes those whose row changed: every row it writes is new or
    different, so int_conversions_this_run reads the rows stamped since the changes were last
    applied (DECISIONLOG.md, "Downstream incrementality"). A change to
    var('conversion_event_names') needs a full refresh. -#}

{{
    config(
        materialized='incremental',
        unique_key='conversion_event_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        meta={'rebuild_on_vars': ['conversion_event_names']},
        indexes=postgres_indexes([
            {'columns': ['conversion_event_id']},
            {'columns': ['person_id']},
            {'columns': ['built_at']},
        ]),
    )
}}

-- depends_on: {{ ref('int_events_this_run') }}

{#- The columns of a conversion taken from its event, stored so that a later run can revalue it
    without re-reading fct_events. -#}
{% set event_columns = [
    'conversion_event_id', 'conversion_name', 'conversion_at', 'conversion_product', 'person_id',
    'conversion_received_at', 'stripe_charge_id', 'stripe_invoice_id', 'revenue',
    'revenue_currency',
] %}

with

conversion_events as (

    -- (in an incremental run, those of int_events_this_run, which carries these columns)
    select
        event_id as conversion_event_id,
        event_name as conversion_name,
        occurred_at as conversion_at,
        product as conversion_product,
        person_id,
        received_at as conversion_received_at,
        stripe_charge_id,
        stripe_invoice_id,
        revenue,
        revenue_currency
    from {{ ref('int_events_this_run') if is_incremental() else ref('fct_events') }}
    where event_name in (
        {%- for name in var('conversion_event_names') %}
        '{{ name }}'{{ ',' if not loop.last }}
        {%- endfor %}
    )

),

{% if is_incremental() %}

conversions as (

    select * from conversion_events

    union all

    -- Stored conversions naming Stripe objects, revalued (their events did not change).
    select
        {% for column in event_columns -%}
        stored.{{ column }}{{ ',' if not loop.last }}
        {% endfor %}
    from {{ this }} as stored
    where (stored.stripe_charge_id is not null or stored.stripe_invoice_id is not null)
        and stored.conversion_event_id not in (select conversion_event_id from conversion_events)

),

{% else %}

conversions as (

    select * from conversion_events

),

{% endif %}

charges_net as (

    select * from {{ ref('int_charges_netted') }}

),

invoices_net as (

    select * from {{ ref('int_invoices_netted') }}

),

final as (

    select
        conversions.conversion_event_id,
        conversions.conversion_name,
        conversions.conversion_at,
        conversions.conversion_product,
        conversions.person_id,
        conversions.conversion_received_at,
        case
            when charges_net.charge_id is not null then 'stripe_charge'
            when invoices_net.invoice_id is not null then 'stripe_invoice'
            when conversions.revenue is not null then 'properties'
            else 'none'
        end as value_source,
        cast(
            case
                when charges_net.charge_id is not null then charges_net.net_amount
                when invoices_net.invoice_id is not null then invoices_net.net_amount
                when conversions.revenue is not null then conversions.revenue
                else 0
            end
            as decimal(38, 6)
        ) as conversion_value,
        case
            when charges_net.charge_id is not null then upper(charges_net.currency)
            when invoices_net.invoice_id is not null then upper(invoices_net.currency)
            when conversions.revenue is not null then conversions.revenue_currency
        end as currency,
        conversions.stripe_charge_id,
        conversions.stripe_invoice_id,
        conversions.revenue,
        conversions.revenue_currency,
        {{ run_stamp() }} as built_at
    from conversions
    left join charges_net
        on conversions.stripe_charge_id = charges_net.charge_id
    left join invoices_net
        on conversions.stripe_invoice_id = invoices_net.invoice_id

)

{% if is_incremental() %}

select final.*
from final
left join {{ this }} as stored
    on final.conversion_event_id = stored.conversion_event_id
where final.conversion_event_id in (select conversion_event_id from conversion_events)
    or {{ distinct_from('final.value_source', 'stored.value_source') }}
    or {{ distinct_from('final.conversion_value', 'stored.conversion_value') }}
    or {{ distinct_from('final.currency', 'stored.currency') }}

{% else %}

select * from final

{% endif %}
