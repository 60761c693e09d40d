-- One row per partner per program version per month: finance's accrual of
-- the rebate liability (never paid to partners; statements come from
-- fct_rebate_statement_lines). In each month of an accumulation period but
-- its last (line_kind accrual), the run-rate projection of the period's
-- basis is the basis so far / months elapsed * months in the period (the
-- period's months inside the version's dates), rounded half away from zero
-- to 0.01; the projection reaches a tier, and the period would be entitled
-- at it to projected_entitlement_amount (the program's calculation, capped,
-- 0 when not eligible so far, rounded to the fen, within the cap a
-- program's components share). The accrued amount to date is that
-- projected entitlement * months elapsed / months in the period, rounded
-- half away from zero to the fen: for a retroactive rate, the projected
-- tier's rate on the basis so far. In the period's last month
-- the actual settlement lands (line_kind true_up): accrued to date is the
-- period's settled entitlement. amount is the month's entry, accrued to
-- date minus accrued before, so a true-up's amount is settled minus
-- accrued and a closed period's amounts add up to its settled entitlement.

with

monthly_basis as (

    select * from {{ ref('int_rebates__monthly_basis') }}

),

programs as (

    select * from {{ ref('stg_rules__rebate_programs') }}

),

tiers as (

    select * from {{ ref('stg_rules__rebate_tiers') }}

),

entitlements as (

    select * from {{ ref('int_rebates__entitlements') }}

),

measured as (

    select
        monthly_basis.*,
        programs.program_id,
        programs.program_version,
        programs.line_item_id,
        programs.component_no,
        programs.program_cap_amount,
        programs.basis,
        programs.accumulation,
        programs.measure,
        programs.banding,
        programs.bounds,
        programs.cap_amount,
        programs.min_collection_ratio is null
        or monthly_basis.cumulative_collected
        >= programs.min_collection_ratio
        * monthly_basis.cumulative_invoiced as is_eligible,
        {{ rebate_measure_of_basis(
            'monthly_basis.cumulative_amount',
            'monthly_basis.cumulative_quantity',
            'monthly_basis.cumulative_new_customers',
        ) }} as volume,
        {{ rebate_measure_of_basis(
            'monthly_basis.prior_year_amount',
            'monthly_basis.prior_year_quantity',
            'monthly_basis.prior_year_new_customers',
        ) }} as prior_year_volume

    from monthly_basis
    inner join programs
        on monthly_basis.program_key = programs.program_key

),

projected as (

    select
        *,
        {{ rounded_quotient(
            'volume * months_in_period', 'months_elapsed', 2
        ) }} as projected_volume

    from measured

),

{{ rebate_calculation('projected', 'projected_volume', 'month_index') }},

accrued as (

    select
        within_program_cap.*,
        entitlements.entitlement_amount as settled_entitlement_amount,
        case
            when within_program_cap.is_closing_month
                then entitlements.entitlement_amount
            else
                {{ rounded_quotient(
                    'within_program_cap.entitlement_amount'
                    ~ ' * within_program_cap.months_elapsed',
                    'within_program_cap.months_in_period',
                    2,
                ) }}
        end as accrued_to_date_amount

    from within_program_cap
    left join entitlements
        on
            within_program_cap.is_closing_month
            and within_program_cap.program_key = entitlements.program_key
            and within_program_cap.partner_id = entitlements.partner_id
            and within_program_cap.quarter_index = entitlements.quarter_index

),

entries as (

    select
        *,
        cast(coalesce(lag(accrued_to_date_amount) over (
            partition by program_key, partner_id, accumulation_index
            order by month_index
        ), 0) as decimal(18, 2)) as previously_accrued_amount

    from accrued

),

final as (

    select
        partner_id || '-' || month_label || '-' || line_item_id
            as accrual_key,
        partner_id,
        month_label,
        month_index,
        substring(month_label, 1, 4)
        || case accumulation
            when 'year' then ''
            else 'Q' || cast(mod(quarter_index, 4) + 1 as varchar)
        end as accumulation_period,
        line_item_id,
        program_key,
        program_id,
        program_version,
        case when is_closing_month then 'true_up' else 'accrual' end
            as line_kind,
        months_elapsed,
        months_in_period,
        volume as basis_to_date,
        prior_year_volume,
        projected_volume,
        measured_basis,
        cast(
            case when basis = 'target_attainment' then target_amount end
            as decimal(18, 2)
        ) as target_amount,
        tier_no,
        tier_name,
        cast(rate as decimal(18, 6)) as rate,
        cast(fixed_amount as decimal(18, 2)) as fixed_amount,
        is_eligible,
        is_capped or entitlement_amount < component_entitlement_amount
            as is_capped,
        entitlement_amount as projected_entitlement_amount,
        accrued_to_date_amount,
        previously_accrued_amount,
        settled_entitlement_amount,
        cast(
            accrued_to_date_amount - previously_accrued_amount
            as decimal(18, 2)
        ) as amount

    from entries

)

select * from final
