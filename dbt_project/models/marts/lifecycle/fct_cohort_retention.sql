-- One row per join cohort (the quarter a partner signed, or of its first
-- order when the master data has no signing date) per quarter since
-- joining: the partners of the cohort tracked in that quarter, how many of
-- them ordered and the retention rate. Every partner of a cohort is tracked
-- from its join quarter on, whether or not it has ordered yet, so a
-- partner that signed before its first order counts in the early quarters
-- too. Quarters before the first quarter in the data are not tracked.

with

partner_quarters as (

    select * from {{ ref('int_scorecards__partner_periods') }}
    where grain = 'quarter'

),

periods as (

    select * from {{ ref('int_scorecards__periods') }}
    where grain = 'quarter'

),

lifecycle as (

    select * from {{ ref('fct_partner_lifecycle') }}

),

cohorts as (

    select
        partner_id,
        {{ quarter_label('cooperation_start_date') }} as cohort_quarter,
        {{ quarter_index('cooperation_start_date') }} as cohort_index

    from lifecycle
    where cooperation_start_date is not null

),

tracked as (

    select
        cohorts.partner_id,
        cohorts.cohort_quarter,
        periods.period,
        periods.period_index - cohorts.cohort_index as quarters_since_join,
        coalesce(partner_quarters.order_count, 0) > 0 as has_ordered

    from cohorts
    inner join periods
        on cohorts.cohort_index <= periods.period_index
    left join partner_quarters
        on
            cohorts.partner_id = partner_quarters.partner_id
            and periods.period_index = partner_quarters.period_index

),

retention as (

    select
        cohort_quarter,
        quarters_since_join,
        min(period) as period,
        count(*) as tracked_count,
        sum(case when has_ordered then 1 else 0 end) as ordering_count

    from tracked
    group by cohort_quarter, quarters_since_join

),

final as (

    select
        *,
        cast(
            {{ safe_ratio('ordering_count', 'tracked_count') }}
            as decimal(9, 4)
        ) as retention_rate

    from retention

)

select * from final
