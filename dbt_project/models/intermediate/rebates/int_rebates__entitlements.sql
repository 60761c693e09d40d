-- One row per program version per partner per quarter: the entitlement
-- accumulated so far in the accumulation period and how it was reached.
-- The measured basis is the accumulated net sales, quantity, new customers'
-- net sales, count of new customers, co-marketing spend or count of
-- completed co-marketing activities (for growth: its increase over the same
-- accumulation a year before, never below 0; for target attainment: the
-- quarter's net sales over its target, cut to 0.001).
-- Retroactive: the reached tier's rate and fixed amount apply to the whole
-- measured basis (for target attainment the rate applies to the net sales);
-- incremental: each tier's rate applies to its own slice.
-- A negative basis (returns above sales) falls in the first tier, so it
-- claws back at the first tier's rate. The entitlement is capped, set to 0
-- when the partner is not eligible, and rounded once, half away from zero,
-- to the fen; a component of a program then gets at most what the cap its
-- components share leaves after the components listed before it. The
-- quarter's movement is the difference of two rounded entitlements, so a
-- year settled quarter by quarter adds up to the year.

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

measured as (

    select
        basis.program_key,
        programs.line_item_id,
        basis.partner_id,
        basis.period,
        basis.quarter_index,
        basis.accumulation_index,
        basis.source_line_count,
        basis.basis_amount,
        basis.basis_quantity,
        basis.cumulative_invoiced,
        basis.cumulative_collected,
        basis.target_amount,
        programs.basis,
        {{ rebate_measure_of_basis(
            'basis.cumulative_amount',
            'basis.cumulative_quantity',
            'basis.cumulative_new_customers',
        ) }} as volume,
        {{ rebate_measure_of_basis(
            'basis.prior_year_amount',
            'basis.prior_year_quantity',
            'basis.prior_year_new_customers',
        ) }} as prior_year_volume,
        programs.measure,
        programs.banding,
        programs.bounds,
        programs.min_collection_ratio is null
        or basis.cumulative_collected
        >= programs.min_collection_ratio
        * basis.cumulative_invoiced as is_eligible,
        programs.cap_amount,
        programs.program_id,
        programs.program_version,
        programs.component_no,
        programs.program_cap_amount,
        programs.minimum_payout

    from basis
    inner join programs
        on basis.program_key = programs.program_key

),

{{ rebate_calculation('measured', 'volume', 'quarter_index') }},

movements as (

    select
        *,
        cast(coalesce(lag(entitlement_amount) over (
            partition by program_key, partner_id, accumulation_index
            order by quarter_index
        ), 0) as decimal(18, 2)) as previously_entitled_amount

    from within_program_cap

),

final as (

    select
        program_key,
        line_item_id,
        partner_id,
        period,
        quarter_index,
        accumulation_index,
        source_line_count,
        basis_amount,
        basis_quantity,
        volume,
        prior_year_volume,
        measured_basis,
        cast(
            case when basis = 'target_attainment' then target_amount end
            as decimal(18, 2)
        ) as target_amount,
        tier_no,
        tier_name,
        cast(rate as decimal(18, 6)) as rate,
        cast(fixed_amount as decimal(18, 2)) as fixed_amount,
        cumulative_invoiced,
        cumulative_collected,
        is_eligible,
        is_capped or entitlement_amount < component_entitlement_amount
            as is_capped,
        cap_amount,
        program_cap_amount,
        minimum_payout,
        entitlement_amount,
        previously_entitled_amount,
        cast(
            entitlement_amount - previously_entitled_amount as decimal(18, 2)
        ) as entitlement_movement

    from movements

)

select * from final
