with

source as (

    select * from {{ source('channel', 'activities') }}

),

renamed as (

    select
        activity_id,
        partner_id,
        activity_type,
        activity_name,
        currency,
        cast(cost as decimal(18, 2)) as cost_amount,
        start_date,
        coalesce(end_date, start_date) as end_date

    from source

)

select * from renamed
