-- One row per program version per partner per quarter, from the partner's
-- first quarter with lines inside the version's dates to the last quarter in
-- the data (or the version's end): the quarter's basis (only lines inside
-- the version's dates), the basis accumulated so far in the accumulation
-- period (quarter or year), the same accumulation a year before over the
-- same dates shifted back a year (for growth), the new customers counted
-- (for a new-customer basis), what was invoiced and collected (for
-- eligibility) and the partner's target for the quarter (for attainment).

with

eligible_lines as (

    select * from {{ ref('int_rebates__eligible_lines') }}

),

programs as (

    select * from {{ ref('stg_rules__rebate_programs') }}

),

partner_quarters as (

    select * from {{ ref('int_sales__partner_quarters') }}

),

targets as (

    select * from {{ ref('stg_channel__targets') }}

),

quarterly as (

    select
        program_key,
        partner_id,
        quarter_index,
        count(*) as source_line_count,
        cast(sum(signed_amount) as decimal(18, 2)) as basis_amount,
        cast(sum(signed_quantity) as decimal(18, 3)) as basis_quantity,
        sum(new_customer_count) as new_customer_count

    from eligible_lines
    where is_effective
    group by program_key, partner_id, quarter_index

),

-- Last year's lines inside the version's dates shifted back a year, put in
-- the quarter they compare with.
prior_year as (

    select
        program_key,
        partner_id,
        quarter_index + 4 as quarter_index,
        cast(sum(signed_amount) as decimal(18, 2)) as basis_amount,
        cast(sum(signed_quantity) as decimal(18, 3)) as basis_quantity,
        sum(new_customer_count) as new_customer_count

    from eligible_lines
    where is_prior_year
    group by program_key, partner_id, quarter_index

),

first_quarters as (

    select
        program_key,
        partner_id,
        min(quarter_index) as first_quarter_index

    from quarterly
    group by program_key, partner_id

),

quarters as (

    select distinct
        period,
        quarter_index,
        cast(substring(period, 6, 1) as integer) as quarter_of_year

    from partner_quarters

),

spine as (

    select
        first_quarters.program_key,
        first_quarters.partner_id,
        quarters.period,
        quarters.quarter_index,
        case programs.accumulation
            when 'year'
                then quarters.quarter_index - quarters.quarter_of_year + 1
            else quarters.quarter_index
        end as accumulation_index

    from first_quarters
    inner join programs
        on first_quarters.program_key = programs.program_key
    inner join quarters
        on
            first_quarters.first_quarter_index <= quarters.quarter_index
            and (
                programs.effective_to is null
                or quarters.quarter_index
                <= {{ quarter_index('programs.effective_to') }}
            )

),

joined as (

    select
        spine.program_key,
        spine.partner_id,
        spine.period,
        spine.quarter_index,
        spine.accumulation_index,
        coalesce(quarterly.source_line_count, 0) as source_line_count,
        coalesce(quarterly.basis_amount, 0) as basis_amount,
        coalesce(quarterly.basis_quantity, 0) as basis_quantity,
        coalesce(quarterly.new_customer_count, 0) as new_customer_count,
        coalesce(prior_year.basis_amount, 0) as prior_year_basis_amount,
        coalesce(prior_year.basis_quantity, 0) as prior_year_basis_quantity,
        coalesce(prior_year.new_customer_count, 0)
            as prior_year_new_customer_count,
        coalesce(partner_quarters.gross_sales, 0) as invoiced_amount,
        coalesce(partner_quarters.collected_amount, 0) as collected_amount,
        targets.target_amount

    from spine
    left join quarterly
        on
            spine.program_key = quarterly.program_key
            and spine.partner_id = quarterly.partner_id
            and spine.quarter_index = quarterly.quarter_index
    left join prior_year
        on
            spine.program_key = prior_year.program_key
            and spine.partner_id = prior_year.partner_id
            and spine.quarter_index = prior_year.quarter_index
    left join partner_quarters
        on
            spine.partner_id = partner_quarters.partner_id
            and spine.quarter_index = partner_quarters.quarter_index
    left join targets
        on
            spine.partner_id = targets.partner_id
            and spine.period = targets.period

),

accumulated as (

    select
        *,
        {{ rebate_running_sum(
            'basis_amount', 'decimal(18, 2)', 'quarter_index'
        ) }} as cumulative_amount,
        {{ rebate_running_sum(
            'basis_quantity', 'decimal(18, 3)', 'quarter_index'
        ) }} as cumulative_quantity,
        {{ rebate_running_sum(
            'new_customer_count', 'decimal(18, 3)', 'quarter_index'
        ) }} as cumulative_new_customers,
        {{ rebate_running_sum(
            'invoiced_amount', 'decimal(18, 2)', 'quarter_index'
        ) }} as cumulative_invoiced,
        {{ rebate_running_sum(
            'collected_amount', 'decimal(18, 2)', 'quarter_index'
        ) }} as cumulative_collected,
        {{ rebate_running_sum(
            'prior_year_basis_amount', 'decimal(18, 2)', 'quarter_index'
        ) }} as prior_year_amount,
        {{ rebate_running_sum(
            'prior_year_basis_quantity', 'decimal(18, 3)', 'quarter_index'
        ) }} as prior_year_quantity,
        {{ rebate_running_sum(
            'prior_year_new_customer_count', 'decimal(18, 3)', 'quarter_index'
        ) }} as prior_year_new_customers

    from joined

)

select * from accumulated
