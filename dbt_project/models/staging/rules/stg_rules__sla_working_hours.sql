with

source as (

    select * from {{ source('rules', 'sla_working_hours') }}

)

select * from source
