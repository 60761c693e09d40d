with

source as (

    select * from {{ source('channel', 'feedback') }}

),

renamed as (

    select
        feedback_id,
        partner_id,
        kind as feedback_kind,
        subject,
        cast(satisfaction as decimal(4, 1)) as satisfaction,
        created_at,
        first_response_at,
        resolved_at

    from source

)

select * from renamed
