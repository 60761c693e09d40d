-- One row per program per order line that counts for it: sales and returns
-- (rebate credit notes never count) inside the program's scope, booked from
-- a year before the program starts (growth compares with that year) to its
-- end. A return counts negative in the quarter it is booked (clawback).

with

order_lines as (

    select * from {{ ref('stg_channel__order_lines') }}

),

partners as (

    select * from {{ ref('stg_channel__partners') }}

),

programs as (

    select * from {{ ref('stg_rules__rebate_programs') }}

),

scope as (

    select * from {{ ref('stg_rules__rebate_scope') }}

),

lines_with_partner as (

    select
        order_lines.order_line_id,
        order_lines.order_id,
        order_lines.partner_id,
        order_lines.product_id,
        order_lines.product_category,
        partners.region,
        partners.partner_type,
        order_lines.line_type,
        order_lines.net_amount,
        order_lines.quantity,
        order_lines.order_date

    from order_lines
    left join partners
        on order_lines.partner_id = partners.partner_id
    where order_lines.line_type in ('sale', 'return')

),

eligible_lines as (

    select
        programs.program_id,
        lines_with_partner.partner_id,
        lines_with_partner.order_line_id,
        lines_with_partner.order_id,
        lines_with_partner.order_date,
        {{ quarter_label('lines_with_partner.order_date') }} as period,
        {{ quarter_index('lines_with_partner.order_date') }} as quarter_index,
        cast(
            case
                when lines_with_partner.line_type = 'return'
                    then -lines_with_partner.net_amount
                else lines_with_partner.net_amount
            end as decimal(18, 2)
        ) as signed_amount,
        cast(
            case
                when lines_with_partner.line_type = 'return'
                    then -lines_with_partner.quantity
                else lines_with_partner.quantity
            end as decimal(18, 3)
        ) as signed_quantity

    from lines_with_partner
    inner join programs
        on
            lines_with_partner.order_date
            >= {{ dbt.dateadd('year', -1, 'programs.effective_from') }}
            and (
                programs.effective_to is null
                or lines_with_partner.order_date <= programs.effective_to
            )
    where
        {{ rebate_in_scope('product_id', 'lines_with_partner.product_id') }}
        and {{ rebate_in_scope(
            'product_category', 'lines_with_partner.product_category'
        ) }}
        and {{ rebate_in_scope('region', 'lines_with_partner.region') }}
        and {{ rebate_in_scope(
            'partner_type', 'lines_with_partner.partner_type'
        ) }}

)

select * from eligible_lines
