with

source as (

    select * from {{ source('rules', 'rebate_adjustments') }}

),

renamed as (

    select
        adjustment_id,
        partner_id,
        program_id,
        period,
        reason,
        approval,
        approved_by,
        cast(amount as decimal(18, 2)) as amount,
        approval = 'approved' as is_approved

    from source

)

select * from renamed
