with checks as (

    select * from {{ ref('int_entitlements_checked') }}

),

persons as (

    select * from {{ ref('dim_persons') }}

),

customers as (

    select * from {{ ref('stg_stripe__customers') }}

),

classified as (

    select
        checks.*,
        case
            when not checks.is_expected then 'grant_without_purchase'
            when checks.entitlement_id is null
                and checks.checked_at > {{ dbt.dateadd('minute', var('entitlement_grace_minutes'), 'checks.paid_at') }}
                then 'missing_grant'
            when checks.entitlement_id is null then 'awaiting_grant'
            when checks.is_fully_refunded and checks.status <> 'revoked' then 'not_revoked_after_refund'
            when checks.status = 'pending'
                and checks.checked_at > {{ dbt.dateadd('day', 7, 'coalesce(checks.granted_at, checks.paid_at)') }}
                then 'pending_unclaimed'
            else 'ok'
        end as issue_type
    from checks

),

-- the person of the purchase: the entitlement's user, else the Stripe customer's
customer_persons as (

    select
        stripe_customer_id,
        min(user_id) as user_id
    from persons
    where stripe_customer_id is not null
        and user_id is not null
    group by stripe_customer_id

),

final as (

    select
        cast(classified.source_purchase_id as {{ dbt.type_string() }}) as source_purchase_id,
        cast(classified.app as {{ dbt.type_string() }}) as app,
        cast(coalesce(classified.user_id, customer_persons.user_id) as {{ dbt.type_string() }}) as user_id,
        cast(coalesce(user_persons.email, classified.pending_for_email, customer_user_persons.email, customers.email) as {{ dbt.type_string() }}) as email,
        cast(classified.entitlement_id as {{ dbt.type_string() }}) as entitlement_id,
        cast(classified.status as {{ dbt.type_string() }}) as status,
        cast(classified.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(classified.is_purchase_paid as boolean) as is_purchase_paid,
        cast(classified.is_fully_refunded as boolean) as is_fully_refunded,
        cast(classified.amount as numeric(38, 6)) as amount,
        cast(classified.currency as {{ dbt.type_string() }}) as currency,
        cast(classified.paid_at as timestamp with time zone) as paid_at,
        cast(classified.granted_at as timestamp with time zone) as granted_at,
        cast(classified.issue_type as {{ dbt.type_string() }}) as issue_type,
        cast(
            case classified.issue_type
                when 'missing_grant'
                    then {{ dbt.dateadd('minute', var('entitlement_grace_minutes'), 'classified.paid_at') }}
                when 'not_revoked_after_refund' then classified.last_refunded_at
                when 'pending_unclaimed'
                    then {{ dbt.dateadd('day', 7, 'coalesce(classified.granted_at, classified.paid_at)') }}
                when 'grant_without_purchase' then classified.granted_at
            end
            as timestamp with time zone
        ) as detected_at
    from classified
    left join customer_persons
        on classified.customer_id = customer_persons.stripe_customer_id
    left join persons as user_persons
        on classified.user_id = user_persons.user_id
    left join persons as customer_user_persons
        on customer_persons.user_id = customer_user_persons.user_id
    left join customers
        on classified.customer_id = customers.customer_id

)

select * from final
