with

source as (

    select * from {{ source('rules', 'scorecard_tier_resources') }}

)

select * from source
