with

source as (

    select * from {{ source('rules', 'rebate_programs') }}

)

select * from source
