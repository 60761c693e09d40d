-- One row per program statement line per order line booked in that quarter
-- inside the program version's dates that counts for it: the drill-down
-- behind a line's source_line_count.

with

eligible_lines as (

    select * from {{ ref('int_rebates__eligible_lines') }}

),

statement_lines as (

    select * from {{ ref('fct_rebate_statement_lines') }}

),

sources as (

    select
        statement_lines.statement_line_key,
        statement_lines.statement_key,
        statement_lines.period,
        eligible_lines.order_line_id,
        eligible_lines.order_id,
        eligible_lines.order_date,
        eligible_lines.signed_amount,
        eligible_lines.signed_quantity

    from statement_lines
    inner join eligible_lines
        on
            statement_lines.program_key = eligible_lines.program_key
            and statement_lines.partner_id = eligible_lines.partner_id
            and statement_lines.period = eligible_lines.period
    where
        statement_lines.line_kind = 'program'
        and eligible_lines.is_effective

)

select * from sources
