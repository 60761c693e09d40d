with

source as (

    select * from {{ source('rules', 'rebate_scope') }}

),

renamed as (

    select
        program_key,
        dimension,
        scope_value

    from source

)

select * from renamed
