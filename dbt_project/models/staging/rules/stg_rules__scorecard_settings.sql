with

source as (

    select * from {{ source('rules', 'scorecard_settings') }}

)

select * from source
