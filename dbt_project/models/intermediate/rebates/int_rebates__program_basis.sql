-- One row per program per partner per quarter: the net sales the program's
-- tiers apply to (sales minus returns booked in the quarter, only lines
-- inside the program's effective dates; rebate credit notes never count).

with

order_lines as (

    select * from {{ ref('stg_channel__order_lines') }}

),

programs as (

    select * from {{ ref('stg_rules__rebate_programs') }}

),

eligible_lines as (

    select
        programs.program_id,
        order_lines.partner_id,
        {{ quarter_label('order_lines.order_date') }} as period,
        case
            when order_lines.line_type = 'return' then -order_lines.net_amount
            else order_lines.net_amount
        end as signed_amount

    from order_lines
    inner join programs
        on
            order_lines.order_date >= programs.effective_from
            and (
                programs.effective_to is null
                or order_lines.order_date <= programs.effective_to
            )
    where order_lines.line_type in ('sale', 'return')

),

basis as (

    select
        program_id,
        partner_id,
        period,
        count(*) as source_line_count,
        cast(sum(signed_amount) as decimal(18, 2)) as basis_amount

    from eligible_lines
    group by program_id, partner_id, period

)

select * from basis
