-- One row per partner per quarter, from the partner's first ordering quarter
-- to the last quarter in the data: sales, returns, collections, complaints
-- and activities booked in that quarter.

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

activities as (

    select * from {{ ref('stg_channel__activities') }}

),

sales_lines as (

    select
        partner_id,
        order_id,
        line_type,
        {{ quarter_label('order_date') }} as period,
        {{ quarter_index('order_date') }} as quarter_index,
        case when line_type = 'sale' then net_amount else 0 end as sale_amount,
        case when line_type = 'return' then net_amount else 0 end
            as return_amount

    from order_lines
    where line_type in ('sale', 'return')

),

quarters as (

    select distinct
        period,
        quarter_index
    from sales_lines

),

first_quarters as (

    select
        partner_id,
        min(quarter_index) as first_quarter_index

    from sales_lines
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

sales as (

    select
        partner_id,
        quarter_index,
        cast(sum(sale_amount) as decimal(18, 2)) as gross_sales,
        cast(sum(return_amount) as decimal(18, 2)) as returns_amount,
        count(distinct case when line_type = 'sale' then order_id end)
            as order_count

    from sales_lines
    group by partner_id, quarter_index

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
