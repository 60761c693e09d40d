-- A closed accumulation period's monthly accrual entries, its true-up
-- included, must add up to the entitlement it settled, to the fen.

with

accruals as (

    select * from {{ ref('fct_rebate_accruals') }}

),

periods as (

    select
        partner_id,
        line_item_id,
        accumulation_period,
        cast(sum(amount) as decimal(18, 2)) as entries_amount,
        max(settled_entitlement_amount) as settled_entitlement_amount,
        count(settled_entitlement_amount) as true_up_count

    from accruals
    group by partner_id, line_item_id, accumulation_period

)

select * from periods
where
    true_up_count = 1
    and entries_amount <> settled_entitlement_amount
