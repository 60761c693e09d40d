with

source as (

    select * from {{ source('rules', 'warning_settings') }}

)

select * from source
