-- One row per partner per quarter in which it has been in the bottom share
-- of its tier (tier_percentile at or below low_output.bottom_share × 100,
-- among at least two scored peers) for low_output.periods quarters in a
-- row: the list to review before phasing a partner out.

with

ranked as (

    select * from {{ ref('int_scorecards__ranked') }}
    where grain = 'quarter'

),

settings as (

    select * from {{ ref('stg_rules__scorecard_settings') }}

),

flagged as (

    select
        ranked.partner_id,
        ranked.period,
        ranked.period_index,
        ranked.region,
        ranked.tier,
        ranked.score,
        ranked.tier_rank,
        ranked.tier_scored_count,
        ranked.tier_percentile,
        ranked.net_sales,
        settings.low_output_periods,
        coalesce(
            ranked.tier_scored_count >= 2
            and ranked.tier_percentile <= settings.low_output_share * 100,
            false
        ) as is_low

    from ranked
    cross join settings

),

islands as (

    select
        *,
        period_index - row_number() over (
            partition by partner_id, is_low order by period_index
        ) as island

    from flagged

),

streaks as (

    select
        *,
        row_number() over (
            partition by partner_id, is_low, island order by period_index
        ) as low_quarters_in_a_row

    from islands

),

listed as (

    select
        partner_id || '-' || period as low_output_key,
        partner_id,
        period,
        period_index,
        region,
        tier,
        score,
        tier_rank,
        tier_scored_count,
        tier_percentile,
        net_sales,
        low_quarters_in_a_row

    from streaks
    where is_low and low_quarters_in_a_row >= low_output_periods

)

select * from listed
