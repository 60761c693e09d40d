-- One row per statement line: a partner's settlement under one program (or
-- one component of a program, named after it) for one quarter, or one
-- approved manual adjustment, with everything that explains it (basis,
-- tier reached, rate, convention, what was already entitled, what is
-- carried) and the count of source lines behind it (fct_rebate_line_sources
-- holds their ids). Each amount is rounded once,
-- half away from zero, to the fen, so a statement's total is the sum of its
-- printed lines.

with

settlements as (

    select * from {{ ref('int_rebates__settlements') }}

),

programs as (

    select * from {{ ref('stg_rules__rebate_programs') }}

),

adjustments as (

    select * from {{ ref('stg_rules__rebate_adjustments') }}

),

order_lines as (

    select * from {{ ref('stg_channel__order_lines') }}

),

partner_periods as (

    select distinct
        partner_id,
        {{ quarter_label('order_date') }} as period

    from order_lines
    where line_type in ('sale', 'return')

),

program_lines as (

    select
        settlements.partner_id,
        settlements.period,
        settlements.line_item_id,
        settlements.program_key,
        programs.program_id,
        programs.component_no,
        programs.component_id,
        programs.component_name,
        'program' as line_kind,
        programs.program_name
        || coalesce(' · ' || programs.component_name, '') as program_name,
        programs.program_version,
        programs.calculation,
        programs.banding,
        programs.bounds,
        programs.basis,
        programs.accumulation,
        programs.rounding,
        settlements.source_line_count,
        settlements.basis_amount,
        settlements.basis_quantity,
        settlements.measured_basis,
        settlements.prior_year_volume,
        settlements.target_amount,
        settlements.tier_no,
        settlements.tier_name,
        settlements.rate,
        settlements.fixed_amount,
        settlements.is_eligible,
        programs.min_collection_ratio,
        settlements.cumulative_invoiced,
        settlements.cumulative_collected,
        settlements.is_capped,
        settlements.cap_amount,
        settlements.program_cap_amount,
        settlements.minimum_payout,
        settlements.entitlement_amount,
        settlements.previously_entitled_amount,
        settlements.carried_in_amount,
        settlements.carried_out_amount,
        settlements.amount,
        cast(null as varchar) as reason

    from settlements
    inner join programs
        on settlements.program_key = programs.program_key
    left join partner_periods
        on
            settlements.partner_id = partner_periods.partner_id
            and settlements.period = partner_periods.period
    where
        partner_periods.partner_id is not null
        or settlements.amount <> 0
        or settlements.carried_out_amount <> settlements.carried_in_amount

),

adjustment_lines as (

    select
        partner_id,
        period,
        'adjustment-' || adjustment_id as line_item_id,
        cast(null as varchar) as program_key,
        'adjustment-' || adjustment_id as program_id,
        0 as component_no,
        cast(null as varchar) as component_id,
        cast(null as varchar) as component_name,
        'adjustment' as line_kind,
        coalesce(program_id, '-') as program_name,
        0 as program_version,
        'adjustment' as calculation,
        '-' as banding,
        '-' as bounds,
        '-' as basis,
        'quarter' as accumulation,
        'half_up_fen' as rounding,
        0 as source_line_count,
        cast(0 as decimal(18, 2)) as basis_amount,
        cast(0 as decimal(18, 3)) as basis_quantity,
        cast(0 as decimal(18, 3)) as measured_basis,
        cast(0 as decimal(18, 3)) as prior_year_volume,
        cast(null as decimal(18, 2)) as target_amount,
        cast(null as integer) as tier_no,
        '-' as tier_name,
        cast(0 as decimal(18, 6)) as rate,
        cast(0 as decimal(18, 2)) as fixed_amount,
        true as is_eligible,
        cast(null as decimal(9, 6)) as min_collection_ratio,
        cast(0 as decimal(18, 2)) as cumulative_invoiced,
        cast(0 as decimal(18, 2)) as cumulative_collected,
        false as is_capped,
        cast(null as decimal(18, 2)) as cap_amount,
        cast(null as decimal(18, 2)) as program_cap_amount,
        cast(0 as decimal(18, 2)) as minimum_payout,
        amount as entitlement_amount,
        cast(0 as decimal(18, 2)) as previously_entitled_amount,
        cast(0 as decimal(18, 2)) as carried_in_amount,
        cast(0 as decimal(18, 2)) as carried_out_amount,
        amount,
        reason || ' (' || approved_by || ')' as reason

    from adjustments
    where is_approved

),

lines as (

    select * from program_lines
    union all
    select * from adjustment_lines

),

numbered as (

    select
        partner_id || '-' || period as statement_key,
        partner_id || '-' || period || '-' || line_item_id
            as statement_line_key,
        partner_id,
        period,
        row_number() over (
            partition by partner_id, period
            order by line_kind desc, program_id asc, component_no asc
        ) as line_no,
        line_kind,
        line_item_id,
        program_key,
        program_id,
        component_id,
        component_name,
        program_name,
        program_version,
        calculation,
        banding,
        bounds,
        basis,
        accumulation,
        rounding,
        source_line_count,
        basis_amount,
        basis_quantity,
        measured_basis,
        prior_year_volume,
        target_amount,
        tier_no,
        tier_name,
        rate,
        fixed_amount,
        is_eligible,
        min_collection_ratio,
        cumulative_invoiced,
        cumulative_collected,
        is_capped,
        cap_amount,
        program_cap_amount,
        minimum_payout,
        entitlement_amount,
        previously_entitled_amount,
        carried_in_amount,
        carried_out_amount,
        amount,
        reason

    from lines

)

select * from numbered
