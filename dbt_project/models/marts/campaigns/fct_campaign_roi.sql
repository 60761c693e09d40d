-- One row per campaign (activity): partners taking part, spend, their net
-- sales in the campaign window, the baseline and the incremental sales
-- over it, and the return on spend (incremental sales / spend). The window
-- is measured up to the last date in the data: is_window_complete is true
-- once every partner's window is in, and a campaign with no measured day
-- yet has no return on spend (null), not a return of zero.

with

uplift as (

    select * from {{ ref('fct_campaign_partner_uplift') }}

),

campaigns as (

    select
        activity_id,
        min(activity_type) as activity_type,
        min(activity_name) as activity_name,
        min(start_date) as start_date,
        max(end_date) as end_date,
        max(window_end_date) as window_end_date,
        max(measured_through_date) as measured_through_date,
        min(case when is_window_complete then 1 else 0 end) = 1
            as is_window_complete,
        max(window_days) as window_days,
        count(*) as partner_count,
        sum(
            case when overlapping_campaign_count > 0 then 1 else 0 end
        ) as overlapping_partner_count,
        cast(sum(spend_amount) as decimal(18, 2)) as spend_amount,
        cast(sum(window_sales) as decimal(18, 2)) as window_sales,
        cast(sum(baseline_sales) as decimal(18, 2)) as baseline_sales,
        cast(sum(incremental_sales) as decimal(18, 2)) as incremental_sales

    from uplift
    group by activity_id

),

final as (

    select
        *,
        cast(
            case
                when window_days > 0
                    then
                        {{ safe_ratio('incremental_sales', 'spend_amount') }}
            end
            as decimal(18, 4)
        ) as return_on_spend

    from campaigns

)

select * from final
