-- One row per partner per month and per quarter, from the partner's first
-- ordering period to the last period in the data: what the partner did in
-- the period (sales, collections, customers, complaints, activities), what
-- it had done up to the period's end, and the metrics the scorecard rates.

-- A table, not a view: several marts read it, and PostgreSQL would run
-- the whole chain (with its recursion) again for each of them.
{{ config(materialized='table') }}

with

order_lines as (

    select * from {{ ref('stg_channel__order_lines') }}

),

payments as (

    select * from {{ ref('stg_channel__payments') }}

),

feedback as (

    select * from {{ ref('stg_channel__feedback') }}

),

complaint_sla as (

    select * from {{ ref('fct_complaint_sla') }}

),

activities as (

    select * from {{ ref('stg_channel__activities') }}

),

targets as (

    select * from {{ ref('stg_channel__targets') }}

),

partners as (

    select * from {{ ref('stg_channel__partners') }}

),

periods as (

    select * from {{ ref('int_scorecards__periods') }}

),

grains as (

    select 'month' as grain
    union all
    select 'quarter' as grain

),

sales_lines as (

    select
        order_lines.partner_id,
        order_lines.order_id,
        order_lines.customer_id,
        order_lines.line_type,
        order_lines.order_date,
        grains.grain,
        {{ period_index('grains.grain', 'order_lines.order_date') }}
            as period_index,
        case
            when order_lines.line_type = 'sale' then order_lines.net_amount
            else 0
        end as sale_amount,
        case
            when order_lines.line_type = 'return' then order_lines.net_amount
            else 0
        end as return_amount

    from order_lines
    cross join grains
    where order_lines.line_type in ('sale', 'return')

),

sales as (

    select
        partner_id,
        grain,
        period_index,
        cast(sum(sale_amount) as decimal(18, 2)) as gross_sales,
        cast(sum(return_amount) as decimal(18, 2)) as returns_amount,
        count(distinct case when line_type = 'sale' then order_id end)
            as order_count,
        count(distinct case when line_type = 'sale' then order_date end)
            as order_day_count,
        min(case when line_type = 'sale' then order_date end)
            as first_order_date,
        max(case when line_type = 'sale' then order_date end)
            as last_order_date

    from sales_lines
    group by partner_id, grain, period_index

),

first_purchases as (

    select
        partner_id,
        customer_id,
        min(order_date) as first_order_date

    from order_lines
    where line_type = 'sale' and customer_id is not null
    group by partner_id, customer_id

),

new_customers as (

    select
        first_purchases.partner_id,
        grains.grain,
        {{ period_index('grains.grain', 'first_purchases.first_order_date') }}
            as period_index,
        count(*) as new_customer_count

    from first_purchases
    cross join grains
    group by
        first_purchases.partner_id,
        grains.grain,
        {{ period_index('grains.grain', 'first_purchases.first_order_date') }}

),

collections as (

    select
        payments.partner_id,
        grains.grain,
        {{ period_index('grains.grain', 'payments.paid_date') }}
            as period_index,
        cast(sum(payments.amount) as decimal(18, 2)) as collected_amount

    from payments
    cross join grains
    group by
        payments.partner_id,
        grains.grain,
        {{ period_index('grains.grain', 'payments.paid_date') }}

),

complaints as (

    select
        complaint_sla.partner_id,
        grains.grain,
        {{ period_index('grains.grain', 'complaint_sla.created_at') }}
            as period_index,
        count(*) as complaint_count,
        sum(case when complaint_sla.is_breached then 1 else 0 end)
            as sla_breach_count,
        count(complaint_sla.first_response_hours) as answered_count,
        cast(sum(complaint_sla.first_response_hours) as decimal(18, 2))
            as first_response_hours_total

    from complaint_sla
    cross join grains
    group by
        complaint_sla.partner_id,
        grains.grain,
        {{ period_index('grains.grain', 'complaint_sla.created_at') }}

),

ratings as (

    select
        feedback.partner_id,
        grains.grain,
        {{ period_index('grains.grain', 'feedback.created_at') }}
            as period_index,
        count(*) as rating_count,
        cast(sum(feedback.satisfaction) as decimal(18, 1)) as rating_total

    from feedback
    cross join grains
    where feedback.satisfaction is not null
    group by
        feedback.partner_id,
        grains.grain,
        {{ period_index('grains.grain', 'feedback.created_at') }}

),

engagement as (

    select
        activities.partner_id,
        grains.grain,
        {{ period_index('grains.grain', 'activities.start_date') }}
            as period_index,
        count(*) as activity_count,
        sum(case when activities.activity_type = 'promotion' then 1 else 0 end)
            as promotion_count,
        sum(case when activities.activity_type = 'event' then 1 else 0 end)
            as event_count,
        sum(case when activities.activity_type = 'training' then 1 else 0 end)
            as training_count,
        sum(
            case
                when activities.activity_type = 'co_marketing' then 1 else 0
            end
        ) as co_marketing_count,
        cast(sum(coalesce(activities.cost_amount, 0)) as decimal(18, 2))
            as activity_cost

    from activities
    cross join grains
    group by
        activities.partner_id,
        grains.grain,
        {{ period_index('grains.grain', 'activities.start_date') }}

),

first_periods as (

    select
        partner_id,
        grain,
        min(period_index) as first_period_index

    from sales
    group by partner_id, grain

),

spine as (

    select
        first_periods.partner_id,
        periods.grain,
        periods.period,
        periods.period_index,
        periods.period_start,
        periods.period_end,
        periods.period_cut_date,
        periods.period_days,
        periods.elapsed_days

    from first_periods
    inner join periods
        on
            first_periods.grain = periods.grain
            and first_periods.first_period_index <= periods.period_index

),

joined as (

    select
        spine.*,
        partners.partner_name,
        partners.region,
        partners.partner_type,
        partners.partner_status,
        partners.joined_date,
        coalesce(sales.order_count, 0) as order_count,
        coalesce(sales.order_day_count, 0) as order_day_count,
        sales.first_order_date as period_first_order_date,
        sales.last_order_date as period_last_order_date,
        coalesce(new_customers.new_customer_count, 0) as new_customer_count,
        coalesce(complaints.complaint_count, 0) as complaint_count,
        coalesce(complaints.sla_breach_count, 0) as sla_breach_count,
        coalesce(complaints.answered_count, 0) as answered_count,
        complaints.first_response_hours_total,
        coalesce(ratings.rating_count, 0) as rating_count,
        ratings.rating_total,
        coalesce(engagement.activity_count, 0) as activity_count,
        coalesce(engagement.promotion_count, 0) as promotion_count,
        coalesce(engagement.event_count, 0) as event_count,
        coalesce(engagement.training_count, 0) as training_count,
        coalesce(engagement.co_marketing_count, 0) as co_marketing_count,
        coalesce(engagement.activity_cost, 0) as activity_cost,
        coalesce(sales.gross_sales, 0) as gross_sales,
        coalesce(sales.returns_amount, 0) as returns_amount,
        cast(
            coalesce(sales.gross_sales, 0) - coalesce(sales.returns_amount, 0)
            as decimal(18, 2)
        ) as net_sales,
        coalesce(collections.collected_amount, 0) as collected_amount,
        targets.target_amount,
        (select count(*) from payments) > 0 as has_payment_data,
        (select count(*) from activities) > 0 as has_activity_data,
        (select count(*) from feedback) > 0 as has_feedback_data

    from spine
    inner join partners
        on spine.partner_id = partners.partner_id
    left join sales
        on
            spine.partner_id = sales.partner_id
            and spine.grain = sales.grain
            and spine.period_index = sales.period_index
    left join new_customers
        on
            spine.partner_id = new_customers.partner_id
            and spine.grain = new_customers.grain
            and spine.period_index = new_customers.period_index
    left join collections
        on
            spine.partner_id = collections.partner_id
            and spine.grain = collections.grain
            and spine.period_index = collections.period_index
    left join complaints
        on
            spine.partner_id = complaints.partner_id
            and spine.grain = complaints.grain
            and spine.period_index = complaints.period_index
    left join ratings
        on
            spine.partner_id = ratings.partner_id
            and spine.grain = ratings.grain
            and spine.period_index = ratings.period_index
    left join engagement
        on
            spine.partner_id = engagement.partner_id
            and spine.grain = engagement.grain
            and spine.period_index = engagement.period_index
    left join targets
        on
            spine.partner_id = targets.partner_id
            and spine.period = targets.period

),

to_date as (

    select
        *,
        sum(net_sales) over partner_history as net_sales_to_date,
        sum(collected_amount) over partner_history as collected_to_date,
        sum(order_day_count) over partner_history as order_days_to_date,
        min(period_first_order_date) over partner_history
            as first_order_date,
        max(period_last_order_date) over partner_history
            as last_order_date,
        lag(net_sales) over partner_periods as previous_net_sales,
        cast(
            case
                when grain = 'month'
                    then lag(net_sales, 12) over partner_periods
                else lag(net_sales, 4) over partner_periods
            end as decimal(18, 2)
        ) as year_ago_net_sales,
        case
            when grain = 'month' then lag(elapsed_days, 12) over partner_periods
            else lag(elapsed_days, 4) over partner_periods
        end as year_ago_elapsed_days,
        lag(collected_amount) over partner_periods as previous_collected_amount,
        lag(rating_count) over partner_periods as previous_rating_count,
        lag(rating_total) over partner_periods as previous_rating_total,
        lag(activity_count) over partner_periods as previous_activity_count

    from joined
    window
        partner_periods as (
            partition by partner_id, grain order by period_index
        ),
        partner_history as (
            partition by partner_id, grain order by period_index
            rows between unbounded preceding and current row
        )

),

metrics as (

    select
        *,
        {{ safe_ratio(
            'net_sales - previous_net_sales', 'previous_net_sales'
        ) }} as sales_growth_qoq,
        {{ safe_ratio(
            'net_sales - year_ago_net_sales', 'year_ago_net_sales'
        ) }} as sales_growth_yoy,
        {{ safe_ratio(
            'net_sales * year_ago_elapsed_days',
            'year_ago_net_sales * elapsed_days',
        ) }} - 1 as run_rate_yoy,
        {{ safe_ratio('net_sales', 'target_amount') }} as target_attainment,
        cast(
            case
                when has_payment_data
                    then {{ safe_ratio('collected_amount', 'net_sales') }}
            end as decimal(18, 6)
        ) as collection_ratio,
        cast(
            case
                when has_payment_data
                    then {{ safe_ratio(
                        'previous_collected_amount', 'previous_net_sales'
                    ) }}
            end as decimal(18, 6)
        ) as previous_collection_ratio,
        cast(
            greatest(net_sales_to_date - collected_to_date, 0)
            as decimal(18, 2)
        ) as receivable_amount,
        cast(
            case
                when has_payment_data
                    then {{ safe_ratio(
                        'greatest(net_sales_to_date - collected_to_date, 0)'
                        ~ ' * elapsed_days',
                        'net_sales',
                    ) }}
            end as decimal(10, 1)
        ) as days_sales_outstanding,
        {{ safe_ratio('returns_amount', 'gross_sales') }} as return_rate,
        cast(
            case
                when complaint_count > 0
                    then {{ safe_ratio('sla_breach_count', 'complaint_count') }}
            end as decimal(18, 6)
        ) as sla_breach_rate,
        cast(
            {{ safe_ratio('first_response_hours_total', 'answered_count') }}
            as decimal(10, 2)
        ) as first_response_hours,
        cast({{ safe_ratio('rating_total', 'rating_count') }} as decimal(4, 2))
            as satisfaction,
        cast(
            {{ safe_ratio('previous_rating_total', 'previous_rating_count') }}
            as decimal(4, 2)
        ) as previous_satisfaction,
        case
            when last_order_date is not null
                then {{ dbt.datediff(
                    'last_order_date', 'period_cut_date', 'day'
                ) }}
        end as days_since_last_order,
        cast(
            case
                when order_days_to_date > 1
                    then {{ safe_ratio(
                        dbt.datediff(
                            'first_order_date', 'last_order_date', 'day'
                        ),
                        'order_days_to_date - 1',
                    ) }}
            end as decimal(10, 1)
        ) as usual_order_gap_days

    from to_date

)

select * from metrics
