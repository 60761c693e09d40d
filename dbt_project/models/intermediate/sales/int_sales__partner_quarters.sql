-- One row per partner per quarter, from the partner's first ordering quarter
-- to the last quarter in the data: sales, returns, collections, complaints
-- and activities booked in that quarter. Sales come aggregated from the
-- incremental int_sales__partner_quarter_sales.

with

partner_quarter_sales as (

    select * from {{ ref('int_sales__partner_quarter_sales') }}

),

payments as (

    select * from {{ ref('stg_channel__payments') }}

),

feedback as (

    select * from {{ ref('stg_channel__feedback') }}

),

activities as (

    select * from {{ ref('stg_channel__activities') }}

),

-- Rows of zeros stand for partner-quarters whose lines were taken back.
sales as (

    select * from partner_quarter_sales
    where line_count > 0

),

quarters as (

    select distinct
        period,
        quarter_index
    from sales

),

first_quarters as (

    select
        partner_id,
        min(quarter_index) as first_quarter_index

    from sales
    group by partner_id

),

spine as (

    select
        first_quarters.partner_id,
        quarters.period,
        quarters.quarter_index

    from first_quarters
    inner join quarters
        on first_quarters.first_quarter_index <= quarters.quarter_index

),

collections as (

    select
        partner_id,
        {{ quarter_index('paid_date') }} as quarter_index,
        cast(sum(amount) as decimal(18, 2)) as collected_amount

    from payments
    group by partner_id, {{ quarter_index('paid_date') }}

),

complaints as (

    select
        partner_id,
        {{ quarter_index('created_at') }} as quarter_index,
        count(*) as complaint_count,
        sum(
            case
                when first_response_at is null then 1
                when
                    first_response_at
                    > {{ dbt.dateadd('hour', 24, 'created_at') }}
                    then 1
                else 0
            end
        ) as sla_breach_count

    from feedback
    where feedback_kind in ('complaint', 'ticket')
    group by partner_id, {{ quarter_index('created_at') }}

),

engagement as (

    select
        partner_id,
        {{ quarter_index('start_date') }} as quarter_index,
        count(*) as activity_count

    from activities
    group by partner_id, {{ quarter_index('start_date') }}

),

joined as (

    select
        spine.partner_id,
        spine.period,
        spine.quarter_index,
        coalesce(sales.order_count, 0) as order_count,
        coalesce(complaints.complaint_count, 0) as complaint_count,
        coalesce(complaints.sla_breach_count, 0) as sla_breach_count,
        coalesce(engagement.activity_count, 0) as activity_count,
        coalesce(sales.gross_sales, 0) as gross_sales,
        coalesce(sales.returns_amount, 0) as returns_amount,
        cast(
            coalesce(sales.gross_sales, 0) - coalesce(sales.returns_amount, 0)
            as decimal(18, 2)
        ) as net_sales,
        coalesce(collections.collected_amount, 0) as collected_amount,
        (select count(*) from payments) > 0 as has_payment_data,
        (select count(*) from activities) > 0 as has_activity_data

    from spine
    left join sales
        on
            spine.partner_id = sales.partner_id
            and spine.quarter_index = sales.quarter_index
    left join collections
        on
            spine.partner_id = collections.partner_id
            and spine.quarter_index = collections.quarter_index
    left join complaints
        on
            spine.partner_id = complaints.partner_id
            and spine.quarter_index = complaints.quarter_index
    left join engagement
        on
            spine.partner_id = engagement.partner_id
            and spine.quarter_index = engagement.quarter_index

)

select * from joined
