-- One row per partner per quarter with sales or returns, or with a
-- statement line (a payout, a carried balance that moved, an approved
-- adjustment): the statement header. total_amount is the sum of the
-- statement's lines; carried_forward_amount is the balance carried to the
-- next quarter (shown, not paid).

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
        partner_id,
        period,
        count(*) as line_count,
        cast(sum(amount) as decimal(18, 2)) as total_amount,
        cast(sum(carried_out_amount) as decimal(18, 2))
            as carried_forward_amount

    from statement_lines
    group by statement_key, partner_id, period

),

statement_periods as (

    select
        partner_id,
        period
    from partner_periods
    union
    select
        partner_id,
        period
    from line_totals

),

statements as (

    select
        statement_periods.partner_id || '-' || statement_periods.period
            as statement_key,
        statement_periods.partner_id,
        statement_periods.period,
        coalesce(
            partner_periods.currency,
            (select max(order_lines.currency) from order_lines)
        ) as currency,
        coalesce(partner_periods.order_line_count, 0) as order_line_count,
        coalesce(line_totals.line_count, 0) as line_count,
        cast(coalesce(partner_periods.net_sales, 0) as decimal(18, 2))
            as net_sales,
        cast(coalesce(line_totals.total_amount, 0) as decimal(18, 2))
            as total_amount,
        cast(coalesce(line_totals.carried_forward_amount, 0) as decimal(18, 2))
            as carried_forward_amount

    from statement_periods
    left join partner_periods
        on
            statement_periods.partner_id = partner_periods.partner_id
            and statement_periods.period = partner_periods.period
    left join line_totals
        on
            statement_periods.partner_id = line_totals.partner_id
            and statement_periods.period = line_totals.period

)

select * from statements
