-- One row per partner per month and per quarter per metric the rules list:
-- the metric's value, the floor and cap it was rated against, its points
-- and whether they count in the score. Floors and caps are per quarter: a
-- month's volume metric (is_volume) is rated against a third of them,
-- computed as three times the month's value against the quarterly rule so
-- the points stay exact. The score and the scorecard e-mail both read the
-- points from here.

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

settings as (

    select * from {{ ref('stg_rules__scorecard_settings') }}

),

-- How many of the period make a quarter, for the metrics that add up.
grain_scales as (

    select
        'quarter' as grain,
        true as is_volume,
        1 as volume_scale
    union all
    select
        'quarter' as grain,
        false as is_volume,
        1 as volume_scale
    union all
    select
        'month' as grain,
        true as is_volume,
        3 as volume_scale
    union all
    select
        'month' as grain,
        false as is_volume,
        1 as volume_scale

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
            period,
            period_index,
            '{{ metric }}' as metric,
            cast({{ column }} as decimal(18, 6)) as metric_value
        from rated
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

scaled as (

    select
        metric_values.partner_id,
        metric_values.grain,
        metric_values.period,
        metric_values.period_index,
        metric_values.metric,
        metric_rules.label_zh,
        metric_rules.label_en,
        metric_rules.weight,
        metric_rules.is_higher_better,
        metric_rules.is_volume,
        metric_values.metric_value,
        metric_values.metric_value is not null as has_data,
        grain_scales.volume_scale,
        metric_rules.floor_value,
        metric_rules.cap_value,
        cast(
            metric_values.metric_value * grain_scales.volume_scale
            as decimal(18, 6)
        ) as rated_value,
        settings.missing_metrics

    from metric_values
    inner join metric_rules
        on metric_values.metric = metric_rules.metric
    inner join grain_scales
        on
            metric_values.grain = grain_scales.grain
            and metric_rules.is_volume = grain_scales.is_volume
    cross join settings

),

pointed as (

    select
        partner_id,
        grain,
        period,
        period_index,
        metric,
        label_zh,
        label_en,
        weight,
        is_higher_better,
        is_volume,
        metric_value,
        has_data,
        -- The rule as this period applies it, for the e-mail to show.
        cast(floor_value / volume_scale as decimal(18, 6))
            as applied_floor_value,
        cast(cap_value / volume_scale as decimal(18, 6))
            as applied_cap_value,
        cast(
            case
                when has_data
                    then {{ metric_points(
                        'rated_value',
                        'floor_value',
                        'cap_value',
                        'is_higher_better',
                    ) }}
                when missing_metrics = 'zero' then 0
            end
            as decimal(4, 1)
        ) as metric_points,
        has_data or missing_metrics = 'zero' as is_counted

    from scaled

)

select * from pointed
