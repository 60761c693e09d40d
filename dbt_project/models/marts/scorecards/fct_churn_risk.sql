-- One row per active partner per quarter and per month (`grain`): the churn
-- risk level (none, low, medium, high by the number of reasons, thresholds
-- in config/scorecard.yml) and the reasons that drove it, in a fixed order.

with

ranked as (

    select * from {{ ref('int_scorecards__ranked') }}

),

reasons as (

    select * from {{ ref('fct_churn_warning_reasons') }}

),

rules as (

    select * from {{ ref('stg_rules__warning_settings') }}

),

counted as (

    select
        partner_id,
        grain,
        period_index,
        count(*) as reason_count,
        {{ dbt.listagg('reason', "', '", 'order by reason_order') }}
            as reasons

    from reasons
    group by partner_id, grain, period_index

),

leveled as (

    select
        ranked.partner_id || '-' || ranked.grain || '-' || ranked.period
            as churn_risk_key,
        ranked.partner_id,
        ranked.grain,
        ranked.period,
        ranked.period_index,
        ranked.region,
        ranked.tier,
        coalesce(counted.reason_count, 0) as reason_count,
        case
            when coalesce(counted.reason_count, 0) = 0 then 'none'
            when counted.reason_count >= rules.high_reasons then 'high'
            when counted.reason_count >= rules.medium_reasons then 'medium'
            else 'low'
        end as risk_level,
        counted.reasons

    from ranked
    cross join rules
    left join counted
        on
            ranked.partner_id = counted.partner_id
            and ranked.grain = counted.grain
            and ranked.period_index = counted.period_index
    where ranked.partner_status = 'active'

)

select * from leveled
