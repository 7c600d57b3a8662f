{#- One row per event of shared_events (event_id is its primary key, so re-sent events are
    already gone). Identifiers are cleaned of blocked values (docs/METRICS.md, Identity) and the campaign of
    docs/REFERENCE.md, Context is read from context.campaign, or else from page.url's query parameters. -#}

{#- context.campaign's fields and the page.url query parameters they stand for (docs/REFERENCE.md, Context). -#}
{% set campaign_params = {
    'source': 'utm_source',
    'medium': 'utm_medium',
    'name': 'utm_campaign',
    'term': 'utm_term',
    'content': 'utm_content',
    'fbclid': 'fbclid',
    'ttclid': 'ttclid',
    'gclid': 'gclid',
} %}

with

source as (

    select * from {{ source('shared', 'shared_events') }}

),

renamed as (

    select
        cast(event_id as text) as event_id,
        product,
        event_name,
        user_id as raw_user_id,
        anonymous_id as raw_anonymous_id,
        {{ identifier_or_null('user_id') }} as user_id,
        {{ identifier_or_null('anonymous_id') }} as anonymous_id,
        nullif(session_id, '') as session_id,
        occurred_at,
        sent_at,
        received_at,
        properties,
        context,
        library,

        {%- for field in campaign_params %}
        {{ json_text('context', ['campaign', field]) }} as campaign_{{ field }},
        {%- endfor %}

        {{ json_text('context', ['page', 'url']) }} as page_url,
        {{ json_text('context', ['page', 'path']) }} as page_path,
        {{ json_text('context', ['page', 'referrer']) }} as page_referrer,

        {{ json_text('properties', ['revenue']) }} as revenue_text,
        upper({{ json_text('properties', ['currency']) }}) as revenue_currency,
        nullif({{ json_text('properties', ['stripe_charge_id']) }}, '') as stripe_charge_id,
        nullif({{ json_text('properties', ['stripe_invoice_id']) }}, '') as stripe_invoice_id,
        {{ normalized_email(json_text('properties', ['traits', 'email'])) }} as traits_email,
        {{ identifier_or_null(json_text('properties', ['previous_id'])) }} as alias_previous_id

    from source

),

campaign_located as (

    select
        *,
        -- `campaign` counts as present when any of its fields is set (docs/REFERENCE.md, Context).
        {{ json_has_any_key('context', ['campaign'], campaign_params.keys() | list) }} as has_context_campaign

    from renamed

),

final as (

    select
        event_id,
        product,
        event_name,
        raw_user_id,
        raw_anonymous_id,
        user_id,
        anonymous_id,
        session_id,
        occurred_at,
        sent_at,
        received_at,
        properties,
        context,
        library,
        page_url,
        page_path,
        page_referrer,
        has_context_campaign,
        {%- for field, url_param in campaign_params.items() %}
        nullif(
            case
                when has_context_campaign then campaign_{{ field }}
                else {{ url_query_param('page_url', url_param) }}
            end,
            ''
        ) as {{ url_param }},
        {%- endfor %}
        cast(revenue_text as decimal(38, 6)) as revenue,
        revenue_currency,
        stripe_charge_id,
        stripe_invoice_id,
        traits_email,
        alias_previous_id

    from campaign_located

)

select * from final
