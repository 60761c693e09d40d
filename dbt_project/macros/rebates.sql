{#- A line is in a program's scope on one dimension when the program lists
    no value for that dimension, or lists the line's value. Written as two
    left joins on the small scope tables (the model defines scope_dimensions
    and scope_values, both distinct) rather than correlated EXISTS: DuckDB
    answers a correlated subquery by buffering every row it is asked about,
    which at 100 M order lines spilled past 60 GB of disk. -#}

{% macro rebate_scope_join(dimension, column) -%}
    left join scope_dimensions as restricted_{{ dimension }}
        on
            programs.program_key = restricted_{{ dimension }}.program_key
            and restricted_{{ dimension }}.dimension = '{{ dimension }}'
    left join scope_values as listed_{{ dimension }}
        on
            programs.program_key = listed_{{ dimension }}.program_key
            and listed_{{ dimension }}.dimension = '{{ dimension }}'
            and {{ column }} = listed_{{ dimension }}.scope_value
{%- endmacro %}

{% macro rebate_in_scope(dimension) -%}
    (
        restricted_{{ dimension }}.program_key is null
        or listed_{{ dimension }}.program_key is not null
    )
{%- endmacro %}

{#- A date falls in a program version's dates shifted back a year (the
    prior-year comparison for growth); the rows it is asked about already
    start a year before effective_from. -#}

{% macro rebate_in_prior_year(date_column) -%}
    (
        programs.effective_to is null
        or {{ date_column }}
        <= {{ dbt.dateadd('year', -1, 'programs.effective_to') }}
    )
{%- endmacro %}

{#- The tier row `tiers` is the one a measured basis reaches under the
    program's bounds; a basis at or below 0 reaches the first tier (a
    clawback at the first tier's rate). -#}

{% macro rebate_tier_reached(basis, bounds) -%}
    (
        (tiers.tier_no = 1 and {{ basis }} <= 0)
        or (
            {{ bounds }} = 'lower_inclusive'
            and {{ basis }} >= tiers.lower_bound
            and (tiers.upper_bound is null or {{ basis }} < tiers.upper_bound)
        )
        or (
            {{ bounds }} = 'upper_inclusive'
            and {{ basis }} > tiers.lower_bound
            and (
                tiers.upper_bound is null or {{ basis }} <= tiers.upper_bound
            )
        )
    )
{%- endmacro %}

{#- Incremental banding: the slice of a measured basis inside the tier row
    `tiers`, times the tier's rate; the first tier also takes a negative
    basis. -#}

{% macro rebate_tier_slice_amount(basis) -%}
    (
        case
            when tiers.tier_no = 1
                then
                    case
                        when
                            tiers.upper_bound is not null
                            and {{ basis }} > tiers.upper_bound
                            then tiers.upper_bound
                        else {{ basis }}
                    end
            when {{ basis }} <= tiers.lower_bound then tiers.lower_bound
            when
                tiers.upper_bound is not null
                and {{ basis }} > tiers.upper_bound
                then tiers.upper_bound
            else {{ basis }}
        end
        - tiers.lower_bound
    ) * tiers.rate
{%- endmacro %}

{#- The measure a program's basis counts, from the accumulated columns
    given: units, new customers, completed activities, or an amount. -#}

{% macro rebate_measure_of_basis(amount, quantity, new_customers) -%}
    case programs.basis
        when 'quantity' then {{ quantity }}
        when 'new_customers' then {{ new_customers }}
        when 'co_marketing_activities' then {{ quantity }}
        else cast({{ amount }} as decimal(18, 3))
    end
{%- endmacro %}

{#- A calculated amount capped at the program's cap, 0 when the partner is
    not eligible, rounded once, half away from zero, to the fen. -#}

{% macro rebate_entitlement(calculated, is_eligible, cap) -%}
    cast(round(
        case
            when not {{ is_eligible }} then 0
            when {{ cap }} is not null and {{ calculated }} > {{ cap }}
                then {{ cap }}
            else {{ calculated }}
        end,
        2
    ) as decimal(18, 2))
{%- endmacro %}

{#- Target attainment: net sales over the target, cut (never rounded)
    towards zero to 0.001, so that it reaches a tier's `from` (at most three
    decimals) exactly when the exact ratio does; 0 without a positive target
    or net sales. -#}

{% macro rebate_attainment(amount, target) -%}
    cast(
        case
            when {{ target }} > 0 and {{ amount }} > 0
                then
                    cast(
                        {{ integer_quotient(
                            'trunc(' ~ amount ~ ' * 100000)',
                            target ~ ' * 100',
                        ) }} as decimal(38, 0)
                    )
                    * cast(0.001 as decimal(38, 3))
            else 0
        end as decimal(18, 3)
    )
{%- endmacro %}

{#- A component's entitlement inside the cap its program's components share:
    the cap is filled in the order the components are listed, each getting
    at most what the components before it left (never below 0); a program
    without a shared cap, or a negative amount (a clawback), passes as it
    is. -#}

{% macro rebate_within_program_cap(amount, period) -%}
    case
        when program_cap_amount is null or {{ amount }} <= 0 then {{ amount }}
        else
            least(
                {{ amount }},
                greatest(
                    program_cap_amount
                    - coalesce(sum({{ amount }}) over (
                        partition by
                            program_id, program_version, partner_id, {{ period }}
                        order by component_no
                        rows between unbounded preceding and 1 preceding
                    ), 0),
                    0
                )
            )
    end
{%- endmacro %}

{#- The CTEs that apply a program's tiers, after the model's CTE `source`
    (one row per program_key, partner_id and `period`, with the program's
    basis, measure, banding and bounds, `volume`, prior_year_volume and
    target_amount, is_eligible, cap_amount and the shared cap's columns):
    measured_basis (growth: the increase over last year; target attainment:
    volume over target), banded (each basis beside its program's tiers,
    the reached one flagged), calculated (the calculation
    before cap, eligibility and rounding), entitled (capped, 0 when not
    eligible, rounded: component_entitlement_amount) and within_program_cap
    (entitlement_amount, within the cap a program's components share). Used
    for the quarterly entitlements and for the monthly accruals'
    projections. -#}

{% macro rebate_calculation(source, volume, period) -%}
measured_basis as (

    select
        *,
        cast(
            case
                when basis = 'target_attainment'
                    then {{ rebate_attainment(volume, 'target_amount') }}
                when measure <> 'growth' then {{ volume }}
                when {{ volume }} > prior_year_volume
                    then {{ volume }} - prior_year_volume
                else 0
            end as decimal(18, 3)
        ) as measured_basis,
        -- What a retroactive rate applies to: the measured basis, or for
        -- target attainment the net sales.
        case
            when basis = 'target_attainment' then {{ volume }}
        end as attained_volume

    from {{ source }}

),

-- Each basis beside every tier of its program, once: the tier it reaches
-- is flagged, and the incremental amount sums its slices over the tiers.
-- One pass instead of joining reached tiers and slices back to the basis,
-- which PostgreSQL planned as a nested loop over every basis pair.
banded as (

    select
        measured_basis.*,
        tiers.tier_no,
        tiers.tier_name,
        tiers.rate,
        tiers.fixed_amount,
        {{ rebate_tier_reached(
            'measured_basis.measured_basis', 'measured_basis.bounds'
        ) }} as is_tier_reached,
        sum(
            {{ rebate_tier_slice_amount('measured_basis.measured_basis') }}
        ) over (
            partition by
                measured_basis.program_key,
                measured_basis.partner_id,
                measured_basis.{{ period }}
        ) as incremental_amount

    from measured_basis
    inner join tiers
        on measured_basis.program_key = tiers.program_key

),

calculated as (

    select
        *,
        case banding
            when 'incremental' then incremental_amount
            else
                coalesce(attained_volume, measured_basis) * rate
                + fixed_amount
        end as calculated_amount

    from banded
    where is_tier_reached

),

entitled as (

    select
        *,
        cap_amount is not null
        and calculated_amount > cap_amount as is_capped,
        {{ rebate_entitlement(
            'calculated_amount', 'is_eligible', 'cap_amount'
        ) }} as component_entitlement_amount

    from calculated

),

within_program_cap as (

    select
        *,
        cast(
            {{ rebate_within_program_cap(
                'component_entitlement_amount', period
            ) }} as decimal(18, 2)
        ) as entitlement_amount

    from entitled

)
{%- endmacro %}

{#- `column` summed over a partner's rows of a program version so far in
    the accumulation period, in the order of `order_by`. -#}

{% macro rebate_running_sum(column, type, order_by) -%}
    cast(sum({{ column }}) over (
        partition by program_key, partner_id, accumulation_index
        order by {{ order_by }}
        rows between unbounded preceding and current row
    ) as {{ type }})
{%- endmacro %}
