-- One row per partner per quarter: the scorecard's metrics, the weighted
-- score, the rank within the quarter and the tier (rules in config).

with

partner_quarters as (

    select * from {{ ref('int_sales__partner_quarters') }}

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

with_previous as (

    select
        current_quarter.*,
        previous_quarter.net_sales as previous_net_sales

    from partner_quarters as current_quarter
    left join partner_quarters as previous_quarter
        on
            current_quarter.partner_id = previous_quarter.partner_id
            and previous_quarter.quarter_index
            = current_quarter.quarter_index - 1

),

metrics as (

    select
        partner_id,
        period,
        quarter_index,
        order_count,
        complaint_count,
        sla_breach_count,
        activity_count,
        gross_sales,
        returns_amount,
        net_sales,
        previous_net_sales,
        collected_amount,
        cast(case
            when previous_net_sales > 0
                then (net_sales - previous_net_sales) / previous_net_sales
        end as decimal(18, 6)) as sales_growth_qoq,
        cast(case
            when has_payment_data and net_sales > 0
                then collected_amount / net_sales
        end as decimal(18, 6)) as collection_ratio,
        cast(case
            when gross_sales > 0 then returns_amount / gross_sales
        end as decimal(18, 6)) as return_rate,
        cast(case
            when complaint_count > 0
                then cast(sla_breach_count as decimal(18, 6)) / complaint_count
        end as decimal(18, 6)) as sla_breach_rate,
        case when has_activity_data then activity_count end as activity_metric

    from with_previous

),

metric_values as (

    select
        partner_id,
        period,
        'net_sales' as metric,
        cast(net_sales as decimal(18, 6)) as metric_value
    from metrics
    union all
    select
        partner_id,
        period,
        'sales_growth_qoq' as metric,
        sales_growth_qoq as metric_value
    from metrics
    union all
    select
        partner_id,
        period,
        'collection_ratio' as metric,
        collection_ratio as metric_value
    from metrics
    union all
    select
        partner_id,
        period,
        'return_rate' as metric,
        return_rate as metric_value
    from metrics
    union all
    select
        partner_id,
        period,
        'sla_breach_rate' as metric,
        sla_breach_rate as metric_value
    from metrics
    union all
    select
        partner_id,
        period,
        'activity_count' as metric,
        cast(activity_metric as decimal(18, 6)) as metric_value
    from metrics

),

points as (

    select
        metric_values.partner_id,
        metric_values.period,
        metric_rules.weight,
        {{ metric_points(
            'metric_values.metric_value',
            'metric_rules.floor_value',
            'metric_rules.cap_value',
            'metric_rules.is_higher_better',
        ) }} as metric_points

    from metric_values
    inner join metric_rules
        on metric_values.metric = metric_rules.metric
    where metric_values.metric_value is not null

),

scores as (

    select
        partner_id,
        period,
        count(*) as metric_count,
        cast(sum(metric_points * weight) / sum(weight) as decimal(7, 2))
            as weighted_score

    from points
    group by partner_id, period

),

scored as (

    select
        metrics.*,
        coalesce(scores.metric_count, 0) as metric_count,
        case
            when coalesce(scores.metric_count, 0) >= settings.min_metrics
                then scores.weighted_score
        end as score,
        settings.insufficient_tier

    from metrics
    cross join settings
    left join scores
        on
            metrics.partner_id = scores.partner_id
            and metrics.period = scores.period

),

tiered as (

    select
        scored.*,
        coalesce(
            (
                select tier_rules.tier
                from tier_rules
                where tier_rules.min_score <= scored.score
                order by tier_rules.min_score desc
                limit 1
            ),
            scored.insufficient_tier
        ) as tier

    from scored

),

labelled as (

    select
        tiered.*,
        tier_rules.label_zh as tier_label_zh,
        tier_rules.label_en as tier_label_en

    from tiered
    left join tier_rules
        on tiered.tier = tier_rules.tier

),

ranked as (

    select
        partner_id || '-' || period as scorecard_key,
        partner_id,
        period,
        quarter_index,
        tier,
        tier_label_zh,
        tier_label_en,
        score,
        case
            when score is not null
                then
                    row_number() over (
                        partition by period, score is null
                        order by score desc, partner_id asc
                    )
        end as score_rank,
        count(score) over (partition by period) as scored_partner_count,
        metric_count,
        order_count,
        complaint_count,
        sla_breach_count,
        activity_count,
        gross_sales,
        returns_amount,
        net_sales,
        previous_net_sales,
        collected_amount,
        sales_growth_qoq,
        collection_ratio,
        return_rate,
        sla_breach_rate

    from labelled

)

select * from ranked
