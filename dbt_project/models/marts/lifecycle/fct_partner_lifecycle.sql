-- One row per partner: when cooperation started (the signing date, or the
-- first order without one), the first and last orders, the cooperation
-- length up to the last order date in the data, and the join cohort (the
-- quarter of the first order).

with

partners as (

    select * from {{ ref('stg_channel__partners') }}

),

partner_quarters as (

    select * from {{ ref('int_scorecards__partner_periods') }}
    where grain = 'quarter'

),

periods as (

    select * from {{ ref('int_scorecards__periods') }}

),

data_through as (

    select max(period_cut_date) as data_through_date
    from periods

),

orders as (

    select
        partner_id,
        min(period_first_order_date) as first_order_date,
        max(period_last_order_date) as last_order_date,
        min(case when order_count > 0 then period end) as cohort_quarter,
        sum(case when order_count > 0 then 1 else 0 end)
            as ordering_quarter_count

    from partner_quarters
    group by partner_id

),

lifecycle as (

    select
        partners.partner_id,
        partners.region,
        partners.partner_type,
        partners.partner_status,
        partners.joined_date,
        orders.first_order_date,
        orders.last_order_date,
        orders.cohort_quarter,
        coalesce(orders.ordering_quarter_count, 0) as ordering_quarter_count,
        coalesce(partners.joined_date, orders.first_order_date)
            as cooperation_start_date,
        case
            when
                coalesce(partners.joined_date, orders.first_order_date)
                is not null
                then {{ dbt.datediff(
                    'coalesce(partners.joined_date, orders.first_order_date)',
                    'data_through.data_through_date',
                    'day',
                ) }}
        end as cooperation_days,
        case
            when
                coalesce(partners.joined_date, orders.first_order_date)
                is not null
                then {{ dbt.datediff(
                    'coalesce(partners.joined_date, orders.first_order_date)',
                    'data_through.data_through_date',
                    'month',
                ) }}
        end as cooperation_months

    from partners
    cross join data_through
    left join orders
        on partners.partner_id = orders.partner_id

)

select * from lifecycle
