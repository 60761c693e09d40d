with

source as (

    select * from {{ source('rules', 'sla_programs') }}

)

select * from source
