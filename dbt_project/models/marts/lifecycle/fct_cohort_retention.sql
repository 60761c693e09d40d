-- One row per join cohort (quarter of the first order) per quarter since:
-- the cohort's size, how many of its partners ordered in that quarter and
-- the retention rate.

with

partner_quarters as (

    select * from {{ ref('int_scorecards__partner_periods') }}
    where grain = 'quarter'

),

cohorts as (

    select
        partner_id,
        min(period_index) as cohort_index

    from partner_quarters
    group by partner_id

),

tracked as (

    select
        partner_quarters.partner_id,
        cohort.period as cohort_quarter,
        cohorts.cohort_index,
        partner_quarters.period,
        partner_quarters.period_index - cohorts.cohort_index
            as quarters_since_join,
        partner_quarters.order_count > 0 as has_ordered

    from partner_quarters
    inner join cohorts
        on partner_quarters.partner_id = cohorts.partner_id
    inner join partner_quarters as cohort
        on
            cohorts.partner_id = cohort.partner_id
            and cohorts.cohort_index = cohort.period_index

),

retention as (

    select
        cohort_quarter,
        quarters_since_join,
        min(period) as period,
        count(*) as cohort_size,
        sum(case when has_ordered then 1 else 0 end) as ordering_count

    from tracked
    group by cohort_quarter, quarters_since_join

),

final as (

    select
        *,
        cast(
            {{ safe_ratio('ordering_count', 'cohort_size') }} as decimal(9, 4)
        ) as retention_rate

    from retention

)

select * from final
