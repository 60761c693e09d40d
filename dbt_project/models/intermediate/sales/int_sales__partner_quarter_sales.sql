-- One row per partner per quarter with order lines: sales, returns and
-- orders. Incremental: a nightly build recomputes only the partner-quarters
-- that new or changed files touched, plus the last `sales_lookback_quarters`
-- quarters in full; every other quarter keeps the row it has.
-- sqlfluff:indentation:template_blocks_indent:false
{{
    config(
        materialized='incremental',
        unique_key=['partner_id', 'quarter_index'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

order_lines as (

    select * from {{ ref('stg_channel__order_lines') }}

),

load_files as (

    select * from {{ source('ops', 'load_files') }}

),

sales_lines as (

    select
        order_lines.partner_id,
        order_lines.order_id,
        order_lines.line_type,
        order_lines.source_batch_id,
        order_lines.source_file_name,
        {{ quarter_label('order_lines.order_date') }} as period,
        {{ quarter_index('order_lines.order_date') }} as quarter_index,
        case
            when order_lines.line_type = 'sale' then order_lines.net_amount
            else 0
        end as sale_amount,
        case
            when order_lines.line_type = 'return' then order_lines.net_amount
            else 0
        end as return_amount

    from order_lines
    where order_lines.line_type in ('sale', 'return')

),

{% if is_incremental() %}

replaced_rows as (

    select * from {{ source('ops', 'replaced_rows') }}

),

built as (

    select * from {{ this }}

),

watermark as (

    select
        max(loaded_through) as loaded_through,
        max(quarter_index) - {{ var('sales_lookback_quarters') }} + 1
            as lookback_from

    from built

),

new_loads as (

    select
        load_files.batch_id,
        load_files.file_name

    from load_files
    cross join watermark
    where
        load_files.dataset = 'order_lines'
        and load_files.loaded_at > watermark.loaded_through

),

touched_keys as (

    select
        sales_lines.partner_id,
        sales_lines.quarter_index

    from sales_lines
    inner join new_loads
        on
            sales_lines.source_batch_id = new_loads.batch_id
            and sales_lines.source_file_name = new_loads.file_name

    union

    select
        replaced_rows.partner_id,
        {{ quarter_index('replaced_rows.event_month') }} as quarter_index

    from replaced_rows
    cross join watermark
    where
        replaced_rows.dataset = 'order_lines'
        and replaced_rows.replaced_at > watermark.loaded_through

    union

    select
        built.partner_id,
        built.quarter_index

    from built
    cross join watermark
    where built.quarter_index >= watermark.lookback_from

    union

    select
        sales_lines.partner_id,
        sales_lines.quarter_index

    from sales_lines
    cross join watermark
    where sales_lines.quarter_index >= watermark.lookback_from

),

chosen_lines as (

    select sales_lines.*

    from sales_lines
    inner join touched_keys
        on
            sales_lines.partner_id = touched_keys.partner_id
            and sales_lines.quarter_index = touched_keys.quarter_index

),

{% else %}

touched_keys as (

    select distinct
        partner_id,
        quarter_index

    from sales_lines

),

chosen_lines as (

    select * from sales_lines

),

{% endif %}

aggregated as (

    select
        partner_id,
        quarter_index,
        min(period) as period,
        count(*) as line_count,
        count(distinct case when line_type = 'sale' then order_id end)
            as order_count,
        cast(sum(sale_amount) as decimal(18, 2)) as gross_sales,
        cast(sum(return_amount) as decimal(18, 2)) as returns_amount

    from chosen_lines
    group by partner_id, quarter_index

),

-- A key whose lines were all taken back keeps a row of zeros, so that the
-- row it had before is replaced rather than left behind.
rebuilt as (

    select
        touched_keys.partner_id,
        touched_keys.quarter_index,
        aggregated.period,
        coalesce(aggregated.line_count, 0) as line_count,
        coalesce(aggregated.order_count, 0) as order_count,
        coalesce(aggregated.gross_sales, 0) as gross_sales,
        coalesce(aggregated.returns_amount, 0) as returns_amount,
        (select max(load_files.loaded_at) from load_files) as loaded_through

    from touched_keys
    left join aggregated
        on
            touched_keys.partner_id = aggregated.partner_id
            and touched_keys.quarter_index = aggregated.quarter_index

)

select * from rebuilt
