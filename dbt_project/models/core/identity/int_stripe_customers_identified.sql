{#- One row per Stripe customer that belongs to a user (docs/METRICS.md, Identity): through
    shared_users.stripe_customer_id, else through an email of the customer that belongs to a
    user: the customer object's own email, or one it paid with (charge receipt/billing email,
    invoice customer email). -#}

with

users as (

    select
        user_id,
        stripe_customer_id
    from {{ ref('stg_shared__users') }}
    where user_id is not null
        and stripe_customer_id is not null

),

emails as (

    select * from {{ ref('int_emails_claimed') }}

),

charges as (

    select
        customer_id,
        email
    from {{ ref('stg_stripe__charges') }}
    where customer_id is not null
        and email is not null

),

invoices as (

    select
        customer_id,
        customer_email as email
    from {{ ref('stg_stripe__invoices') }}
    where customer_id is not null
        and customer_email is not null

),

customers as (

    select
        customer_id,
        email
    from {{ ref('stg_stripe__customers') }}
    where customer_id is not null
        and email is not null

),

customer_emails as (

    select customer_id, email from customers
    union
    select customer_id, email from charges
    union
    select customer_id, email from invoices

),

claims as (

    select
        stripe_customer_id as customer_id,
        user_id,
        1 as claim_priority,
        'shared_users' as claim_source
    from users

    union all

    select
        customer_emails.customer_id,
        emails.user_id,
        2 as claim_priority,
        'email' as claim_source
    from customer_emails
    inner join emails
        on customer_emails.email = emails.email

),

ranked as (

    select
        *,
        row_number() over (
            partition by customer_id
            order by claim_priority, user_id
        ) as claim_rank
    from claims

),

final as (

    select
        customer_id,
        user_id,
        claim_source
    from ranked
    where claim_rank = 1

)

select * from final
