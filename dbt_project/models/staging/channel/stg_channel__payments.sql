with

source as (

    select * from {{ source('channel', 'payments') }}

),

renamed as (

    select
        payment_id,
        partner_id,
        currency,
        cast(amount as decimal(18, 2)) as amount,
        paid_date

    from source

)

select * from renamed
