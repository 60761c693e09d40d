with

source as (

    select * from {{ source('channel', 'targets') }}

),

renamed as (

    select
        partner_id,
        period,
        currency,
        cast(target_amount as decimal(18, 2)) as target_amount,
        _file_name as source_file_name,
        _row_number as source_row_number

    from source

)

select * from renamed
