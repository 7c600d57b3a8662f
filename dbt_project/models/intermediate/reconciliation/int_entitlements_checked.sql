-- One row per expected bundle entitlement (joined to the entitlements found for it) or per
-- entitlement found for a purchase Stripe does not know as paid, with the facts the issue
-- type is decided from (docs/METRICS.md, Entitlement reconciliation). `checked_at` is when the check runs.

with expected as (

    select * from {{ ref('int_entitlements_expected') }}

),

purchases as (

    select * from {{ ref('int_purchases_unioned') }}

),

entitlements as (

    select * from {{ ref('stg_shared__entitlements') }}

),

-- an entitlement may name the invoice or the charge that paid it
purchase_keys as (

    select purchase_id, purchase_id as referenced_id, is_paid from purchases
    union all
    select purchase_id, paying_charge_id as referenced_id, is_paid from purchases
    where paying_charge_id is not null
        and paying_charge_id <> purchase_id

),

-- the ids an expected entitlement may name: the purchase, or the charge that paid it
expected_keys as (

    select purchase_id, app, purchase_id as referenced_id from expected
    union
    select purchase_id, app, paying_charge_id as referenced_id from expected
    where paying_charge_id is not null

),

expected_matches as (

    select
        expected_keys.purchase_id,
        expected_keys.app,
        entitlements.entitlement_id,
        entitlements.user_id,
        entitlements.pending_for_email,
        entitlements.status,
        entitlements.granted_at,
        entitlements.revoked_at
    from expected_keys
    inner join entitlements
        on expected_keys.referenced_id = entitlements.source_purchase_id
        and expected_keys.app = entitlements.product

),

expected_found as (

    select
        expected.purchase_id as source_purchase_id,
        expected.app,
        expected.customer_id,
        expected.amount,
        expected.currency,
        expected.paid_at,
        expected.is_fully_refunded,
        expected.last_refunded_at,
        true as is_expected,
        true as is_purchase_paid,
        expected_matches.entitlement_id,
        expected_matches.user_id,
        expected_matches.pending_for_email,
        expected_matches.status,
        expected_matches.granted_at,
        expected_matches.revoked_at
    from expected
    left join expected_matches
        on expected.purchase_id = expected_matches.purchase_id
        and expected.app = expected_matches.app

),

without_purchase as (

    select
        entitlements.source_purchase_id,
        entitlements.product as app,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as decimal(38, 3)) as amount,
        cast(null as {{ dbt.type_string() }}) as currency,
        cast(null as timestamp with time zone) as paid_at,
        false as is_fully_refunded,
        cast(null as timestamp with time zone) as last_refunded_at,
        false as is_expected,
        coalesce(max(case when purchase_keys.is_paid then 1 else 0 end), 0) = 1 as is_purchase_paid,
        entitlements.entitlement_id,
        entitlements.user_id,
        entitlements.pending_for_email,
        entitlements.status,
        entitlements.granted_at,
        entitlements.revoked_at
    from entitlements
    left join purchase_keys
        on entitlements.source_purchase_id = purchase_keys.referenced_id
    where entitlements.source_purchase_id is not null
    group by
        entitlements.source_purchase_id,
        entitlements.product,
        entitlements.entitlement_id,
        entitlements.user_id,
        entitlements.pending_for_email,
        entitlements.status,
        entitlements.granted_at,
        entitlements.revoked_at
    having coalesce(max(case when purchase_keys.is_paid then 1 else 0 end), 0) = 0

),

unioned as (

    select * from expected_found
    union all
    select * from without_purchase

),

final as (

    select
        *,
        {{ dbt.current_timestamp() }} as checked_at
    from unioned

)

select * from final
