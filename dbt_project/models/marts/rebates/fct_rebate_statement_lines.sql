-- One row per statement line: a partner's rebate under one program for one
-- quarter, with the basis, the tier reached and the rate that explain it.
-- Amounts are rounded once per line, half away from zero to the fen (0.01),
-- so a statement's total is the sum of its printed lines.

with

basis as (

    select * from {{ ref('int_rebates__program_basis') }}

),

programs as (

    select * from {{ ref('stg_rules__rebate_programs') }}

),

tiers as (

    select * from {{ ref('stg_rules__rebate_tiers') }}

),

reached_tiers as (

    select
        basis.program_id,
        basis.partner_id,
        basis.period,
        tiers.tier_no,
        tiers.tier_name,
        tiers.rate

    from basis
    inner join tiers
        on
            basis.program_id = tiers.program_id
            and basis.basis_amount >= tiers.lower_bound
            and (
                tiers.upper_bound is null
                or basis.basis_amount < tiers.upper_bound
            )

),

incremental_amounts as (

    select
        basis.program_id,
        basis.partner_id,
        basis.period,
        sum(
            (
                case
                    when
                        tiers.upper_bound is not null
                        and basis.basis_amount > tiers.upper_bound
                        then tiers.upper_bound
                    else basis.basis_amount
                end
                - tiers.lower_bound
            ) * tiers.rate
        ) as unrounded_amount

    from basis
    inner join tiers
        on
            basis.program_id = tiers.program_id
            and basis.basis_amount > tiers.lower_bound
    group by basis.program_id, basis.partner_id, basis.period

),

lines as (

    select
        basis.partner_id,
        basis.period,
        basis.program_id,
        programs.program_name,
        programs.program_version,
        programs.calculation,
        basis.source_line_count,
        basis.basis_amount,
        reached_tiers.tier_no,
        coalesce(reached_tiers.tier_name, '-') as tier_name,
        coalesce(reached_tiers.rate, 0) as rate,
        cast(round(
            case programs.calculation
                when 'retroactive'
                    then basis.basis_amount * coalesce(reached_tiers.rate, 0)
                when 'incremental'
                    then coalesce(incremental_amounts.unrounded_amount, 0)
            end,
            2
        ) as decimal(18, 2)) as amount

    from basis
    inner join programs
        on basis.program_id = programs.program_id
    left join reached_tiers
        on
            basis.program_id = reached_tiers.program_id
            and basis.partner_id = reached_tiers.partner_id
            and basis.period = reached_tiers.period
    left join incremental_amounts
        on
            basis.program_id = incremental_amounts.program_id
            and basis.partner_id = incremental_amounts.partner_id
            and basis.period = incremental_amounts.period

),

numbered as (

    select
        partner_id || '-' || period as statement_key,
        partner_id || '-' || period || '-' || program_id as statement_line_key,
        partner_id,
        period,
        row_number() over (
            partition by partner_id, period order by program_id
        ) as line_no,
        program_id,
        program_name,
        program_version,
        calculation,
        tier_no,
        tier_name,
        source_line_count,
        cast(rate as decimal(9, 6)) as rate,
        basis_amount,
        amount

    from lines

)

select * from numbered
