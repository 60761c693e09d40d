with

source as (

    select * from {{ source('rules', 'rebate_tiers') }}

),

renamed as (

    select
        program_id,
        tier_no,
        tier_name,
        cast(lower_bound as decimal(18, 2)) as lower_bound,
        cast(upper_bound as decimal(18, 2)) as upper_bound,
        cast(rate as decimal(9, 6)) as rate

    from source

)

select * from renamed
