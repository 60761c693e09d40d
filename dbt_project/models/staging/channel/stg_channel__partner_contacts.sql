with

source as (

    select * from {{ source('channel', 'partner_contacts') }}

),

renamed as (

    select
        partner_id,
        lower(email) as email,
        contact_name,
        coalesce(language, 'zh-CN') as language

    from source

)

select * from renamed
