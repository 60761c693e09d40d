-- One row per join cohort (the quarter a partner signed, or of its first
-- order when the master data has no signing date) per quarter since
-- joining, from the partner's first ordering quarter in the data: the
-- partners of the cohort tracked in that quarter, how many of them ordered
-- and the retention rate.

with

partner_quarters as (

    select * from {{ ref('int_scorecards__partner_periods') }}
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
        partner_quarters.partner_id,
        cohorts.cohort_quarter,
        partner_quarters.period,
        partner_quarters.period_index - cohorts.cohort_index
            as quarters_since_join,
        partner_quarters.order_count > 0 as has_ordered

    from partner_quarters
    inner join cohorts
        on partner_quarters.partner_id = cohorts.partner_id
    where partner_quarters.period_index >= cohorts.cohort_index

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
