-- One row per partner per month and per quarter: the weighted score from the
-- metric rules (null when fewer than min_metrics metrics have data) and the
-- tier that score alone qualifies for, before hysteresis. Floors and caps
-- are per quarter: a month rates volume metrics against a third of them.

-- A table, not a view: several marts read it, and PostgreSQL would run
-- the whole chain (with its recursion) again for each of them.
{{ config(materialized='table') }}

{%- set metrics = [
    'net_sales', 'sales_growth_qoq', 'sales_growth_yoy', 'target_attainment',
    'collection_ratio', 'days_sales_outstanding', 'order_count',
    'days_since_last_order', 'new_customer_count', 'activity_count',
    'complaint_count', 'first_response_hours', 'sla_breach_rate',
    'satisfaction', 'return_rate',
] %}

with

partner_periods as (

    select * from {{ ref('int_scorecards__partner_periods') }}

),

metric_rules as (

    select * from {{ ref('stg_rules__scorecard_metrics') }}

),

tier_rules as (

    select * from {{ ref('stg_rules__scorecard_tiers') }}

),

settings as (

    select * from {{ ref('stg_rules__scorecard_settings') }}

),

grain_scales as (

    select
        'quarter' as grain,
        true as is_volume,
        1 as scale
    union all
    select
        'quarter' as grain,
        false as is_volume,
        1 as scale
    union all
    select
        'month' as grain,
        true as is_volume,
        3 as scale
    union all
    select
        'month' as grain,
        false as is_volume,
        1 as scale

),

rated as (

    select
        *,
        case when has_activity_data then activity_count end
            as activity_metric,
        case when has_feedback_data then complaint_count end
            as complaint_metric

    from partner_periods

),

metric_values as (

    {% for metric in metrics -%}
        {%- set column = {
            'activity_count': 'activity_metric',
            'complaint_count': 'complaint_metric',
        }.get(metric, metric) %}
        select
            partner_id,
            grain,
            period_index,
            '{{ metric }}' as metric,
            cast({{ column }} as decimal(18, 6)) as metric_value
        from rated
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

points as (

    select
        metric_values.partner_id,
        metric_values.grain,
        metric_values.period_index,
        metric_rules.weight,
        {{ metric_points(
            'metric_values.metric_value',
            'metric_rules.floor_value / grain_scales.scale',
            'metric_rules.cap_value / grain_scales.scale',
            'metric_rules.is_higher_better',
        ) }} as metric_points

    from metric_values
    inner join metric_rules
        on metric_values.metric = metric_rules.metric
    inner join grain_scales
        on
            metric_values.grain = grain_scales.grain
            and metric_rules.is_volume = grain_scales.is_volume
    where metric_values.metric_value is not null

),

scores as (

    select
        partner_id,
        grain,
        period_index,
        count(*) as metric_count,
        sum(metric_points * weight) as weighted_points,
        sum(weight) as weight_with_data

    from points
    group by partner_id, grain, period_index

),

scored as (

    select
        rated.*,
        coalesce(scores.metric_count, 0) as metric_count,
        cast(
            case
                when coalesce(scores.metric_count, 0) < settings.min_metrics
                    then null
                when settings.missing_metrics = 'zero'
                    then
                        scores.weighted_points
                        / (select sum(metric_rules.weight) from metric_rules)
                else scores.weighted_points / scores.weight_with_data
            end
            as decimal(7, 2)
        ) as score

    from rated
    cross join settings
    left join scores
        on
            rated.partner_id = scores.partner_id
            and rated.grain = scores.grain
            and rated.period_index = scores.period_index

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
