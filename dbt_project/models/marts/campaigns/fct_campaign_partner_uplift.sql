-- One row per campaign (activity) per partner taking part: what it cost,
-- the partner's net sales in the campaign window (start to end plus the
-- attribution days), its baseline (net sales per day over the baseline days
-- before the start, times the window's days, rounded half up to the cent)
-- and the incremental sales over that baseline. A partner in overlapping
-- campaigns has its uplift counted for each; overlapping_campaign_count
-- says how many others share the window.
--
-- The window is measured only up to the last date with sales or returns
-- in the data (measured_through_date): days the warehouse has no order
-- lines for yet would count in the baseline but add no sales, pushing the
-- increment down. is_window_complete says whether the whole window is in.
-- A campaign starting after that date keeps its row, with its spend and
-- zero days, baseline, sales and increment: leaving it out would drop
-- its spend and partners from the campaign's totals.

with

activities as (

    select * from {{ ref('stg_channel__activities') }}

),

order_lines as (

    select * from {{ ref('stg_channel__order_lines') }}

),

settings as (

    select * from {{ ref('stg_rules__scorecard_settings') }}

),

sales as (

    select
        partner_id,
        order_date,
        cast(
            sum(
                case
                    when line_type = 'return' then -net_amount
                    else net_amount
                end
            ) as decimal(18, 2)
        ) as net_amount

    from order_lines
    where line_type in ('sale', 'return')
    group by partner_id, order_date

),

data_through as (

    select max(order_date) as data_through_date
    from sales

),

windows as (

    select
        activities.activity_id,
        activities.partner_id,
        activities.activity_type,
        activities.activity_name,
        activities.start_date,
        activities.end_date,
        cast(coalesce(activities.cost_amount, 0) as decimal(18, 2))
            as spend_amount,
        cast(
            {{ dbt.dateadd(
                'day',
                '-settings.campaign_baseline_days',
                'activities.start_date',
            ) }} as date
        ) as baseline_start_date,
        cast(
            {{ dbt.dateadd(
                'day',
                'settings.campaign_attribution_days',
                'activities.end_date',
            ) }} as date
        ) as window_end_date,
        settings.campaign_baseline_days as baseline_days

    from activities
    cross join settings

),

measured_windows as (

    select
        windows.*,
        least(
            windows.window_end_date, data_through.data_through_date
        ) as measured_through_date,
        coalesce(
            data_through.data_through_date >= windows.window_end_date, false
        ) as is_window_complete

    from windows
    cross join data_through

),

measured as (

    select
        measured_windows.activity_id,
        measured_windows.partner_id,
        measured_windows.activity_type,
        measured_windows.activity_name,
        measured_windows.start_date,
        measured_windows.end_date,
        measured_windows.window_end_date,
        measured_windows.measured_through_date,
        measured_windows.is_window_complete,
        measured_windows.spend_amount,
        measured_windows.baseline_days,
        case
            when
                measured_windows.measured_through_date
                < measured_windows.start_date
                then 0
            else
                {{ dbt.datediff(
                    'measured_windows.start_date',
                    'measured_windows.measured_through_date',
                    'day',
                ) }}
                + 1
        end as window_days,
        cast(
            coalesce(sum(
                case
                    when
                        sales.order_date >= measured_windows.baseline_start_date
                        and sales.order_date < measured_windows.start_date
                        then sales.net_amount
                end
            ), 0) as decimal(18, 2)
        ) as baseline_period_sales,
        cast(
            coalesce(sum(
                case
                    when
                        sales.order_date >= measured_windows.start_date
                        and sales.order_date
                        <= measured_windows.measured_through_date
                        then sales.net_amount
                end
            ), 0) as decimal(18, 2)
        ) as window_sales

    from measured_windows
    left join sales
        on
            measured_windows.partner_id = sales.partner_id
            and measured_windows.baseline_start_date <= sales.order_date
            and measured_windows.measured_through_date >= sales.order_date
    group by
        measured_windows.activity_id,
        measured_windows.partner_id,
        measured_windows.activity_type,
        measured_windows.activity_name,
        measured_windows.start_date,
        measured_windows.end_date,
        measured_windows.window_end_date,
        measured_windows.measured_through_date,
        measured_windows.is_window_complete,
        measured_windows.spend_amount,
        measured_windows.baseline_days

),

with_baseline as (

    select
        *,
        {{ prorated_amount(
            'baseline_period_sales', 'window_days', 'baseline_days'
        ) }} as baseline_sales

    from measured

),

overlapping as (

    select
        current_campaign.activity_id,
        current_campaign.partner_id,
        count(other_campaign.activity_id) as overlapping_campaign_count

    from with_baseline as current_campaign
    left join with_baseline as other_campaign
        on
            current_campaign.partner_id = other_campaign.partner_id
            and current_campaign.activity_id <> other_campaign.activity_id
            and current_campaign.window_end_date >= other_campaign.start_date
            and current_campaign.start_date <= other_campaign.window_end_date
    group by current_campaign.activity_id, current_campaign.partner_id

),

final as (

    select
        with_baseline.activity_id || '-' || with_baseline.partner_id
            as campaign_partner_key,
        with_baseline.*,
        cast(
            with_baseline.window_sales - with_baseline.baseline_sales
            as decimal(18, 2)
        ) as incremental_sales,
        overlapping.overlapping_campaign_count

    from with_baseline
    inner join overlapping
        on
            with_baseline.activity_id = overlapping.activity_id
            and with_baseline.partner_id = overlapping.partner_id

)

select * from final
