-- One row per quarter: partners that ordered in the previous quarter, how
-- many of them ordered again, how many did not (churned in the quarter),
-- the churn rate, and the partners whose first order fell in the quarter.

with

partner_quarters as (

    select * from {{ ref('int_scorecards__partner_periods') }}
    where grain = 'quarter'

),

activity as (

    select
        partner_id,
        period,
        period_index,
        order_count > 0 as has_ordered,
        lag(order_count) over (
            partition by partner_id order by period_index
        ) > 0 as had_ordered_before,
        row_number() over (
            partition by partner_id order by period_index
        ) = 1 as is_first_period

    from partner_quarters

),

rates as (

    select
        period,
        period_index,
        sum(case when had_ordered_before then 1 else 0 end)
            as active_at_start_count,
        sum(case when had_ordered_before and has_ordered then 1 else 0 end)
            as retained_count,
        sum(
            case when had_ordered_before and not has_ordered then 1 else 0 end
        ) as churned_count,
        sum(case when is_first_period then 1 else 0 end) as new_partner_count

    from activity
    group by period, period_index

),

final as (

    select
        *,
        cast(
            {{ safe_ratio('churned_count', 'active_at_start_count') }}
            as decimal(9, 4)
        ) as churn_rate

    from rates

)

select * from final
