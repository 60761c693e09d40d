-- One row per program per partner per effective quarter: the entitlement
-- accumulated so far in the accumulation period and how it was reached.
-- The measured basis is the accumulated net sales, quantity, new customers'
-- net sales, count of new customers, co-marketing spend or count of
-- completed co-marketing activities (for growth:
-- its increase over the same accumulation a year before, never below 0).
-- Retroactive: the reached tier's rate and fixed amount apply to the whole
-- measured basis; incremental: each tier's rate applies to its own slice.
-- A negative basis (returns above sales) falls in the first tier, so it
-- claws back at the first tier's rate. The entitlement is capped, set to 0
-- when the partner is not eligible, and rounded once, half away from zero,
-- to the fen; the quarter's movement is the difference of two rounded
-- entitlements, so a year settled quarter by quarter adds up to the year.

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
        basis.program_id,
        basis.partner_id,
        basis.period,
        basis.quarter_index,
        basis.accumulation_index,
        basis.source_line_count,
        basis.basis_amount,
        basis.basis_quantity,
        basis.cumulative_invoiced,
        basis.cumulative_collected,
        case programs.basis
            when 'quantity' then basis.cumulative_quantity
            when 'new_customers' then basis.cumulative_new_customers
            when 'co_marketing_activities' then basis.cumulative_quantity
            else cast(basis.cumulative_amount as decimal(18, 3))
        end as volume,
        case programs.basis
            when 'quantity' then basis.prior_year_quantity
            when 'new_customers' then basis.prior_year_new_customers
            when 'co_marketing_activities' then basis.prior_year_quantity
            else cast(basis.prior_year_amount as decimal(18, 3))
        end as prior_year_volume,
        programs.measure,
        programs.banding,
        programs.bounds

    from basis
    inner join programs
        on basis.program_id = programs.program_id
    where basis.is_effective

),

measured_basis as (

    select
        *,
        cast(
            case measure
                when 'growth'
                    then
                        case
                            when volume > prior_year_volume
                                then volume - prior_year_volume
                            else 0
                        end
                else volume
            end as decimal(18, 3)
        ) as measured_basis

    from measured

),

reached_tiers as (

    select
        measured_basis.program_id,
        measured_basis.partner_id,
        measured_basis.quarter_index,
        tiers.tier_no,
        tiers.tier_name,
        tiers.rate,
        tiers.fixed_amount

    from measured_basis
    inner join tiers
        on
            measured_basis.program_id = tiers.program_id
            and (
                (tiers.tier_no = 1 and measured_basis.measured_basis <= 0)
                or (
                    measured_basis.bounds = 'lower_inclusive'
                    and measured_basis.measured_basis >= tiers.lower_bound
                    and (
                        tiers.upper_bound is null
                        or measured_basis.measured_basis < tiers.upper_bound
                    )
                )
                or (
                    measured_basis.bounds = 'upper_inclusive'
                    and measured_basis.measured_basis > tiers.lower_bound
                    and (
                        tiers.upper_bound is null
                        or measured_basis.measured_basis <= tiers.upper_bound
                    )
                )
            )

),

slices as (

    select
        measured_basis.program_id,
        measured_basis.partner_id,
        measured_basis.quarter_index,
        sum(
            (
                case
                    when tiers.tier_no = 1
                        then
                            case
                                when
                                    tiers.upper_bound is not null
                                    and measured_basis.measured_basis
                                    > tiers.upper_bound
                                    then tiers.upper_bound
                                else measured_basis.measured_basis
                            end
                    when
                        measured_basis.measured_basis <= tiers.lower_bound
                        then tiers.lower_bound
                    when
                        tiers.upper_bound is not null
                        and measured_basis.measured_basis > tiers.upper_bound
                        then tiers.upper_bound
                    else measured_basis.measured_basis
                end
                - tiers.lower_bound
            ) * tiers.rate
        ) as incremental_amount

    from measured_basis
    inner join tiers
        on measured_basis.program_id = tiers.program_id
    group by
        measured_basis.program_id,
        measured_basis.partner_id,
        measured_basis.quarter_index

),

calculated as (

    select
        measured_basis.*,
        reached_tiers.tier_no,
        reached_tiers.tier_name,
        reached_tiers.rate,
        reached_tiers.fixed_amount,
        case measured_basis.banding
            when 'incremental' then slices.incremental_amount
            else
                measured_basis.measured_basis * reached_tiers.rate
                + reached_tiers.fixed_amount
        end as calculated_amount,
        programs.min_collection_ratio is null
        or measured_basis.cumulative_collected
        >= programs.min_collection_ratio
        * measured_basis.cumulative_invoiced as is_eligible,
        programs.cap_amount,
        programs.minimum_payout

    from measured_basis
    inner join programs
        on measured_basis.program_id = programs.program_id
    inner join reached_tiers
        on
            measured_basis.program_id = reached_tiers.program_id
            and measured_basis.partner_id = reached_tiers.partner_id
            and measured_basis.quarter_index = reached_tiers.quarter_index
    inner join slices
        on
            measured_basis.program_id = slices.program_id
            and measured_basis.partner_id = slices.partner_id
            and measured_basis.quarter_index = slices.quarter_index

),

entitled as (

    select
        *,
        cap_amount is not null
        and calculated_amount > cap_amount as is_capped,
        cast(round(
            case
                when not is_eligible then 0
                when
                    cap_amount is not null and calculated_amount > cap_amount
                    then cap_amount
                else calculated_amount
            end,
            2
        ) as decimal(18, 2)) as entitlement_amount

    from calculated

),

movements as (

    select
        *,
        cast(coalesce(lag(entitlement_amount) over (
            partition by program_id, partner_id, accumulation_index
            order by quarter_index
        ), 0) as decimal(18, 2)) as previously_entitled_amount

    from entitled

),

final as (

    select
        program_id,
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
        tier_no,
        tier_name,
        cast(rate as decimal(18, 6)) as rate,
        cast(fixed_amount as decimal(18, 2)) as fixed_amount,
        cumulative_invoiced,
        cumulative_collected,
        is_eligible,
        is_capped,
        cap_amount,
        minimum_payout,
        entitlement_amount,
        previously_entitled_amount,
        cast(
            entitlement_amount - previously_entitled_amount as decimal(18, 2)
        ) as entitlement_movement

    from movements

)

select * from final
