-- One row per partner per month and per quarter: the weighted score from the
-- metric points (null when fewer than min_metrics metrics have data) and the
-- tier that score alone qualifies for, before hysteresis. The score is the
-- weighted mean of the points that count (int_scorecards__metric_points),
-- rounded half up to two places, computed exactly.

-- A table, not a view: several marts read it, and PostgreSQL would run
-- the whole chain (with its recursion) again for each of them.
{{ config(materialized='table') }}

with

partner_periods as (

    select * from {{ ref('int_scorecards__partner_periods') }}

),

metric_points as (

    select * from {{ ref('int_scorecards__metric_points') }}

),

tier_rules as (

    select * from {{ ref('stg_rules__scorecard_tiers') }}

),

settings as (

    select * from {{ ref('stg_rules__scorecard_settings') }}

),

scores as (

    select
        partner_id,
        grain,
        period_index,
        sum(case when has_data then 1 else 0 end) as metric_count,
        sum(case when is_counted then metric_points * weight end)
            as weighted_points,
        sum(case when is_counted then weight end) as counted_weight

    from metric_points
    group by partner_id, grain, period_index

),

scored as (

    select
        partner_periods.*,
        coalesce(scores.metric_count, 0) as metric_count,
        cast(
            case
                when coalesce(scores.metric_count, 0) >= settings.min_metrics
                    then {{ rounded_ratio(
                        'scores.weighted_points', 'scores.counted_weight', 2, 7
                    ) }}
            end
            as decimal(7, 2)
        ) as score

    from partner_periods
    cross join settings
    left join scores
        on
            partner_periods.partner_id = scores.partner_id
            and partner_periods.grain = scores.grain
            and partner_periods.period_index = scores.period_index

),

leveled as (

    select
        scored.*,
        (
            select max(tier_rules.tier_level)
            from tier_rules
            where tier_rules.min_score <= scored.score
        ) as score_level

    from scored

)

select * from leveled
