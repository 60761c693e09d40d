with

source as (

    select * from {{ source('rules', 'rebate_tiers') }}

),

renamed as (

    select
        program_key,
        tier_no,
        tier_name,
        cast(lower_bound as decimal(18, 3)) as lower_bound,
        cast(upper_bound as decimal(18, 3)) as upper_bound,
        cast(rate as decimal(18, 6)) as rate,
        cast(fixed_amount as decimal(18, 2)) as fixed_amount

    from source

)

select * from renamed
