with

source as (

    select * from {{ source('channel', 'partners') }}

),

renamed as (

    select
        partner_id,
        parent_partner_id,
        partner_name,
        region,
        partner_type,
        coalesce(status, 'active') as partner_status,
        joined_date,
        _source as source_name

    from source

)

select * from renamed
