with

source as (

    select * from {{ source('rules', 'scorecard_metrics') }}

)

select * from source
