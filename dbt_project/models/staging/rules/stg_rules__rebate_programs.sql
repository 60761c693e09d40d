with

source as (

    select * from {{ source('rules', 'rebate_programs') }}

),

renamed as (

    select
        program_key,
        program_id,
        line_item_id,
        component_no,
        component_id,
        component_name,
        program_name,
        program_version,
        basis,
        calculation,
        banding,
        measure,
        accumulation,
        bounds,
        rounding,
        cast(min_collection_ratio as decimal(9, 6)) as min_collection_ratio,
        cast(cap_amount as decimal(18, 2)) as cap_amount,
        cast(program_cap_amount as decimal(18, 2)) as program_cap_amount,
        cast(minimum_payout as decimal(18, 2)) as minimum_payout,
        effective_from,
        effective_to

    from source

)

select * from renamed
