-- One row per partner per quarter with any sales or returns: the statement
-- header. total_amount is the sum of the statement's lines.

with

order_lines as (

    select * from {{ ref('stg_channel__order_lines') }}

),

statement_lines as (

    select * from {{ ref('fct_rebate_statement_lines') }}

),

partner_periods as (

    select
        partner_id,
        {{ quarter_label('order_date') }} as period,
        max(currency) as currency,
        count(*) as order_line_count,
        cast(sum(
            case when line_type = 'return' then -net_amount else net_amount end
        ) as decimal(18, 2)) as net_sales

    from order_lines
    where line_type in ('sale', 'return')
    group by partner_id, {{ quarter_label('order_date') }}

),

line_totals as (

    select
        statement_key,
        count(*) as line_count,
        cast(sum(amount) as decimal(18, 2)) as total_amount

    from statement_lines
    group by statement_key

),

statements as (

    select
        partner_periods.partner_id || '-' || partner_periods.period
            as statement_key,
        partner_periods.partner_id,
        partner_periods.period,
        partner_periods.currency,
        partner_periods.order_line_count,
        coalesce(line_totals.line_count, 0) as line_count,
        partner_periods.net_sales,
        cast(coalesce(line_totals.total_amount, 0) as decimal(18, 2))
            as total_amount

    from partner_periods
    left join line_totals
        on
            line_totals.statement_key
            = partner_periods.partner_id || '-' || partner_periods.period

)

select * from statements
