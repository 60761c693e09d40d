with

source as (

    select * from {{ source('rules', 'scorecard_tiers') }}

)

select * from source
