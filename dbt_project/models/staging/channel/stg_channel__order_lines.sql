with

source as (

    select * from {{ source('channel', 'order_lines') }}

),

renamed as (

    select
        order_line_id,
        order_id,
        partner_id,
        product_id,
        product_category,
        customer_id,
        line_type,
        currency,
        cast(quantity as decimal(18, 3)) as quantity,
        cast(unit_price as decimal(18, 4)) as unit_price,
        cast(net_amount as decimal(18, 2)) as net_amount,
        order_date,
        _file_name as source_file_name,
        _row_number as source_row_number,
        _batch_id as source_batch_id

    from source

)

select * from renamed
