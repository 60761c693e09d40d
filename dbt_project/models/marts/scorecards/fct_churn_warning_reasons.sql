-- One row per active partner per quarter and per month (`grain`) per reason
-- for a churn warning, with the value observed, the value it is compared
-- with and the threshold (config/scorecard.yml, warnings):
--   order_gap: days since the last order beyond order_gap_factor times the
--     partner's own usual gap between order days;
--   run_rate_down: net sales per day below the same period a year before by
--     run_rate_drop or more;
--   collections_slipping: collection ratio down by collection_ratio_drop
--     while the amount receivable grew;
--   satisfaction_falling: average rating down by satisfaction_drop;
--   sla_breaches: complaints answered too late in the period;
--   engagement_dropping: activities down by engagement_drop on the period
--     before, which had at least min_previous_activities.

with

ranked as (

    select * from {{ ref('int_scorecards__ranked') }}

),

rules as (

    select * from {{ ref('stg_rules__warning_settings') }}

),

active as (

    select
        ranked.*,
        rules.order_gap_factor,
        rules.min_orders_for_gap,
        rules.run_rate_drop,
        rules.collection_ratio_drop,
        rules.satisfaction_drop,
        rules.sla_breaches,
        rules.engagement_drop,
        rules.min_previous_activities,
        lag(ranked.receivable_amount) over (
            partition by ranked.partner_id, ranked.grain
            order by ranked.period_index
        ) as previous_receivable_amount,
        case
            when ranked.previous_rating_count > 0
                then ranked.previous_satisfaction
        end as rated_previous_satisfaction

    from ranked
    cross join rules
    where ranked.partner_status = 'active'

),

reasons as (

    select
        partner_id,
        grain,
        period,
        period_index,
        1 as reason_order,
        'order_gap' as reason,
        cast(days_since_last_order as decimal(18, 4)) as observed_value,
        cast(usual_order_gap_days as decimal(18, 4)) as reference_value,
        cast(order_gap_factor * usual_order_gap_days as decimal(18, 4))
            as threshold_value
    from active
    where
        order_days_to_date >= min_orders_for_gap
        and days_since_last_order > order_gap_factor * usual_order_gap_days
    union all
    select
        partner_id,
        grain,
        period,
        period_index,
        2 as reason_order,
        'run_rate_down' as reason,
        cast(run_rate_yoy as decimal(18, 4)) as observed_value,
        cast(year_ago_net_sales as decimal(18, 4)) as reference_value,
        cast(-run_rate_drop as decimal(18, 4)) as threshold_value
    from active
    where run_rate_yoy <= -run_rate_drop
    union all
    select
        partner_id,
        grain,
        period,
        period_index,
        3 as reason_order,
        'collections_slipping' as reason,
        cast(collection_ratio as decimal(18, 4)) as observed_value,
        cast(previous_collection_ratio as decimal(18, 4)) as reference_value,
        cast(
            previous_collection_ratio - collection_ratio_drop
            as decimal(18, 4)
        ) as threshold_value
    from active
    where
        collection_ratio
        <= previous_collection_ratio - collection_ratio_drop
        and receivable_amount > previous_receivable_amount
    union all
    select
        partner_id,
        grain,
        period,
        period_index,
        4 as reason_order,
        'satisfaction_falling' as reason,
        cast(satisfaction as decimal(18, 4)) as observed_value,
        cast(rated_previous_satisfaction as decimal(18, 4)) as reference_value,
        cast(rated_previous_satisfaction - satisfaction_drop as decimal(18, 4))
            as threshold_value
    from active
    where satisfaction <= rated_previous_satisfaction - satisfaction_drop
    union all
    select
        partner_id,
        grain,
        period,
        period_index,
        5 as reason_order,
        'sla_breaches' as reason,
        cast(sla_breach_count as decimal(18, 4)) as observed_value,
        cast(complaint_count as decimal(18, 4)) as reference_value,
        cast(sla_breaches as decimal(18, 4)) as threshold_value
    from active
    where sla_breach_count >= sla_breaches
    union all
    select
        partner_id,
        grain,
        period,
        period_index,
        6 as reason_order,
        'engagement_dropping' as reason,
        cast(activity_count as decimal(18, 4)) as observed_value,
        cast(previous_activity_count as decimal(18, 4)) as reference_value,
        cast(previous_activity_count * (1 - engagement_drop) as decimal(18, 4))
            as threshold_value
    from active
    where
        has_activity_data
        and previous_activity_count >= min_previous_activities
        and activity_count <= previous_activity_count * (1 - engagement_drop)

),

keyed as (

    select
        partner_id || '-' || grain || '-' || period || '-' || reason
            as warning_reason_key,
        *

    from reasons

)

select * from keyed
