-- One row per program version per partner per month, from the partner's
-- first month with lines inside the version's dates to the last month in
-- the data (or the version's end): the basis accumulated so far in the
-- month's accumulation period (quarter or year), the months of that period
-- inside the version's dates and how many of them have passed, the whole
-- period's basis a year before (for growth), the quarter's target (for
-- target attainment) and what was invoiced and collected so far in the
-- period (for eligibility). A month index is year * 12 + month - 1, so the
-- first month of quarter index q is 3 * q.

with

eligible_lines as (

    select * from {{ ref('int_rebates__eligible_lines') }}

),

programs as (

    select * from {{ ref('stg_rules__rebate_programs') }}

),

periods as (

    select * from {{ ref('int_scorecards__periods') }}

),

order_lines as (

    select * from {{ ref('stg_channel__order_lines') }}

),

payments as (

    select * from {{ ref('stg_channel__payments') }}

),

targets as (

    select * from {{ ref('stg_channel__targets') }}

),

months as (

    select
        period as month_label,
        period_index as month_index,
        quarter_index

    from periods
    where grain = 'month'

),

monthly as (

    select
        program_key,
        partner_id,
        {{ month_index('order_date') }} as month_index,
        cast(sum(signed_amount) as decimal(18, 2)) as basis_amount,
        cast(sum(signed_quantity) as decimal(18, 3)) as basis_quantity,
        sum(new_customer_count) as new_customer_count

    from eligible_lines
    where is_effective
    group by program_key, partner_id, {{ month_index('order_date') }}

),

-- Last year's lines inside the version's dates shifted back a year, in the
-- accumulation period they compare with, then summed per period.
prior_year_lines as (

    select
        eligible_lines.program_key,
        eligible_lines.partner_id,
        eligible_lines.signed_amount,
        eligible_lines.signed_quantity,
        eligible_lines.new_customer_count,
        case programs.accumulation
            when 'year'
                then
                    eligible_lines.quarter_index + 4
                    - mod(eligible_lines.quarter_index, 4)
            else eligible_lines.quarter_index + 4
        end as accumulation_index

    from eligible_lines
    inner join programs
        on eligible_lines.program_key = programs.program_key
    where eligible_lines.is_prior_year

),

prior_year as (

    select
        program_key,
        partner_id,
        accumulation_index,
        cast(sum(signed_amount) as decimal(18, 2)) as basis_amount,
        cast(sum(signed_quantity) as decimal(18, 3)) as basis_quantity,
        sum(new_customer_count) as new_customer_count

    from prior_year_lines
    group by program_key, partner_id, accumulation_index

),

-- Invoiced (sales) and collected (payments) per partner per month.
money_movements as (

    select
        partner_id,
        {{ month_index('order_date') }} as month_index,
        net_amount as invoiced_amount,
        cast(0 as decimal(18, 2)) as collected_amount

    from order_lines
    where line_type = 'sale'

    union all

    select
        partner_id,
        {{ month_index('paid_date') }} as month_index,
        cast(0 as decimal(18, 2)) as invoiced_amount,
        amount as collected_amount

    from payments

),

partner_months as (

    select
        partner_id,
        month_index,
        cast(sum(invoiced_amount) as decimal(18, 2)) as invoiced_amount,
        cast(sum(collected_amount) as decimal(18, 2)) as collected_amount

    from money_movements
    group by partner_id, month_index

),

first_months as (

    select
        program_key,
        partner_id,
        min(month_index) as first_month_index

    from monthly
    group by program_key, partner_id

),

spine as (

    select
        first_months.program_key,
        first_months.partner_id,
        months.month_label,
        months.month_index,
        months.quarter_index,
        case programs.accumulation
            when 'year'
                then months.quarter_index - mod(months.quarter_index, 4)
            else months.quarter_index
        end as accumulation_index,
        case programs.accumulation when 'year' then 12 else 3 end
            as period_month_count,
        {{ month_index('programs.effective_from') }} as first_effective_month,
        {{ month_index('programs.effective_to') }} as last_effective_month

    from first_months
    inner join programs
        on first_months.program_key = programs.program_key
    inner join months
        on
            first_months.first_month_index <= months.month_index
            and (
                programs.effective_to is null
                or months.month_index
                <= {{ month_index('programs.effective_to') }}
            )

),

-- The months of the accumulation period that lie inside the version's
-- dates run from period_first_month to period_last_month.
period_months as (

    select
        program_key,
        partner_id,
        month_label,
        month_index,
        quarter_index,
        accumulation_index,
        greatest(3 * accumulation_index, first_effective_month)
            as period_first_month,
        least(
            3 * accumulation_index + period_month_count - 1,
            coalesce(
                last_effective_month,
                3 * accumulation_index + period_month_count - 1
            )
        ) as period_last_month

    from spine

),

to_date as (

    select
        period_months.program_key,
        period_months.partner_id,
        period_months.month_index,
        cast(sum(partner_months.invoiced_amount) as decimal(18, 2))
            as invoiced_amount,
        cast(sum(partner_months.collected_amount) as decimal(18, 2))
            as collected_amount

    from period_months
    left join partner_months
        on
            period_months.partner_id = partner_months.partner_id
            and partner_months.month_index
            between period_months.period_first_month
            and period_months.month_index
    group by
        period_months.program_key,
        period_months.partner_id,
        period_months.month_index

),

joined as (

    select
        period_months.program_key,
        period_months.partner_id,
        period_months.month_label,
        period_months.month_index,
        period_months.quarter_index,
        period_months.accumulation_index,
        period_months.month_index - period_months.period_first_month + 1
            as months_elapsed,
        period_months.period_last_month - period_months.period_first_month
        + 1 as months_in_period,
        period_months.month_index = period_months.period_last_month
            as is_closing_month,
        cast(coalesce(monthly.basis_amount, 0) as decimal(18, 2))
            as basis_amount,
        cast(coalesce(monthly.basis_quantity, 0) as decimal(18, 3))
            as basis_quantity,
        coalesce(monthly.new_customer_count, 0) as new_customer_count,
        cast(coalesce(prior_year.basis_amount, 0) as decimal(18, 2))
            as prior_year_amount,
        cast(coalesce(prior_year.basis_quantity, 0) as decimal(18, 3))
            as prior_year_quantity,
        cast(coalesce(prior_year.new_customer_count, 0) as decimal(18, 3))
            as prior_year_new_customers,
        cast(coalesce(to_date.invoiced_amount, 0) as decimal(18, 2))
            as cumulative_invoiced,
        cast(coalesce(to_date.collected_amount, 0) as decimal(18, 2))
            as cumulative_collected,
        targets.target_amount

    from period_months
    left join monthly
        on
            period_months.program_key = monthly.program_key
            and period_months.partner_id = monthly.partner_id
            and period_months.month_index = monthly.month_index
    left join prior_year
        on
            period_months.program_key = prior_year.program_key
            and period_months.partner_id = prior_year.partner_id
            and period_months.accumulation_index
            = prior_year.accumulation_index
    left join to_date
        on
            period_months.program_key = to_date.program_key
            and period_months.partner_id = to_date.partner_id
            and period_months.month_index = to_date.month_index
    left join targets
        on
            period_months.partner_id = targets.partner_id
            and substring(period_months.month_label, 1, 4) || 'Q'
            || cast(mod(period_months.quarter_index, 4) + 1 as varchar)
            = targets.period

),

accumulated as (

    select
        *,
        {{ rebate_running_sum(
            'basis_amount', 'decimal(18, 2)', 'month_index'
        ) }} as cumulative_amount,
        {{ rebate_running_sum(
            'basis_quantity', 'decimal(18, 3)', 'month_index'
        ) }} as cumulative_quantity,
        {{ rebate_running_sum(
            'new_customer_count', 'decimal(18, 3)', 'month_index'
        ) }} as cumulative_new_customers

    from joined

)

select * from accumulated
