-- One row per month and one per quarter from the first to the last month
-- with order lines: the period's label, index, first and last day, and its
-- days up to the last order date in the data (the open period is cut there).

with recursive

order_lines as (

    select * from {{ ref('stg_channel__order_lines') }}

),

bounds as (

    select
        cast({{ dbt.date_trunc('month', 'min(order_date)') }} as date)
            as first_month_start,
        cast({{ dbt.date_trunc('month', 'max(order_date)') }} as date)
            as last_month_start,
        max(order_date) as data_through_date

    from order_lines
    where line_type in ('sale', 'return')

),

month_starts as (

    select first_month_start as month_start
    from bounds
    where first_month_start is not null
    union all
    select
        cast({{ dbt.dateadd('month', 1, 'month_starts.month_start') }} as date)
            as month_start
    from month_starts
    where
        month_starts.month_start
        < (select bounds.last_month_start from bounds)

),

months as (

    select
        'month' as grain,
        {{ month_label('month_start') }} as period,
        {{ month_index('month_start') }} as period_index,
        month_start as period_start,
        cast(
            {{ dbt.dateadd(
                'day', -1, dbt.dateadd('month', 1, 'month_start')
            ) }} as date
        ) as period_end,
        {{ quarter_index('month_start') }} as quarter_index

    from month_starts

),

quarters as (

    select
        'quarter' as grain,
        {{ quarter_label('min(period_start)') }} as period,
        quarter_index as period_index,
        {{ quarter_start('min(period_start)') }} as period_start,
        cast(
            {{ dbt.dateadd(
                'day',
                -1,
                dbt.dateadd('month', 3, quarter_start('min(period_start)')),
            ) }} as date
        ) as period_end,
        quarter_index

    from months
    group by quarter_index

),

periods as (

    select * from months
    union all
    select * from quarters

),

with_elapsed as (

    select
        periods.grain,
        periods.period,
        periods.period_index,
        periods.period_start,
        periods.period_end,
        periods.quarter_index,
        case
            when bounds.data_through_date < periods.period_end
                then bounds.data_through_date
            else periods.period_end
        end as period_cut_date,
        {{ dbt.datediff('periods.period_start', 'periods.period_end', 'day') }}
        + 1 as period_days

    from periods
    cross join bounds

),

final as (

    select
        *,
        {{ dbt.datediff('period_start', 'period_cut_date', 'day') }}
        + 1 as elapsed_days

    from with_elapsed

)

select * from final
