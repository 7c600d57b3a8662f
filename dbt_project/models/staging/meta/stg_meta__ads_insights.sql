-- One row per Meta ad per account-local day: the insights row typed and renamed.
-- Meta serves numbers as strings and leaves keys out when they have no value: an absent
-- delivery count (impressions, clicks, spend) means none that day (0); reach and frequency
-- stay null when absent, since they are neither additive nor derivable.

with source as (

    select * from {{ source('raw_meta', 'ads_insights') }}

),

renamed as (

    select
        cast(ad_id as {{ dbt.type_string() }}) as ad_id,
        cast(date_start as date) as report_date,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        {{ json_text('payload', ['account_name']) }} as account_name,
        upper({{ json_text('payload', ['account_currency']) }}) as currency,
        {{ json_text('payload', ['campaign_id']) }} as campaign_id,
        {{ json_text('payload', ['campaign_name']) }} as campaign_name,
        {{ json_text('payload', ['adset_id']) }} as adset_id,
        {{ json_text('payload', ['adset_name']) }} as adset_name,
        {{ json_text('payload', ['ad_name']) }} as ad_name,
        coalesce({{ parse_count(json_text('payload', ['impressions'])) }}, 0) as impressions,
        coalesce({{ parse_count(json_text('payload', ['clicks'])) }}, 0) as clicks,
        coalesce({{ parse_decimal(json_text('payload', ['spend'])) }}, 0) as spend,
        {{ parse_count(json_text('payload', ['reach'])) }} as reach,
        {{ parse_decimal(json_text('payload', ['frequency'])) }} as frequency,
        _loaded_at as loaded_at
    from source

)

select * from renamed
