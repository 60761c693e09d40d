-- One row per program version per partner per quarter: what the quarter
-- pays. The balance available is what was carried in plus the quarter's
-- entitlement movement (the accumulated entitlement minus what was already
-- entitled for the period). It is paid when it is positive and reaches the
-- program's minimum payout; otherwise it is carried forward to the next
-- quarter, negative balances (clawbacks) included, and never paid. The
-- balance runs per statement line (line_item_id), so it carries from one
-- version of a program into the next. The running balance is a recursive
-- query, nested so that dbt can put its own CTEs (unit-test fixtures) in
-- front of the model's.

with

entitlements as (

    select * from {{ ref('int_rebates__entitlements') }}

),

ordered as (

    select
        *,
        row_number() over (
            partition by line_item_id, partner_id order by quarter_index
        ) as sequence_no

    from entitlements

),

settled as (

    select
        ordered.*,
        balances.carried_in_amount,
        balances.available_amount,
        cast(
            case
                when
                    balances.available_amount > 0
                    and balances.available_amount >= ordered.minimum_payout
                    then balances.available_amount
                else 0
            end as decimal(18, 2)
        ) as amount

    from ordered  -- noqa: AL04
    -- The recursion must sit in a subquery, see the header.
    inner join (  -- noqa: ST05

        with recursive balances (
            line_item_id,
            partner_id,
            sequence_no,
            carried_in_amount,
            available_amount
        ) as (

            select
                line_item_id,
                partner_id,
                sequence_no,
                cast(0 as decimal(18, 2)) as carried_in_amount,
                cast(entitlement_movement as decimal(18, 2)) as available_amount

            from ordered
            where sequence_no = 1

            union all

            select
                ordered.line_item_id,
                ordered.partner_id,
                ordered.sequence_no,
                cast(
                    case
                        when
                            balances.available_amount > 0
                            and balances.available_amount
                            >= ordered.minimum_payout
                            then 0
                        else balances.available_amount
                    end as decimal(18, 2)
                ) as carried_in_amount,
                cast(
                    ordered.entitlement_movement
                    + case
                        when
                            balances.available_amount > 0
                            and balances.available_amount
                            >= ordered.minimum_payout
                            then 0
                        else balances.available_amount
                    end as decimal(18, 2)
                ) as available_amount

            from balances
            inner join ordered
                -- noqa: disable=ST09
                on
                    balances.line_item_id = ordered.line_item_id
                    and balances.partner_id = ordered.partner_id
                    and balances.sequence_no + 1 = ordered.sequence_no
        -- noqa: enable=ST09

        )

        select * from balances

    ) as balances
        on
            ordered.line_item_id = balances.line_item_id
            and ordered.partner_id = balances.partner_id
            and ordered.sequence_no = balances.sequence_no

),

final as (

    select
        *,
        cast(available_amount - amount as decimal(18, 2)) as carried_out_amount

    from settled

)

select * from final
