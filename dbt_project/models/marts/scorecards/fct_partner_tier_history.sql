-- One row per partner per quarter and per month (`grain`): the tier the
-- score alone qualifies for, the tier held after hysteresis, the move
-- (entered, promoted, demoted, held) and the streaks towards the next move.

with

ranked as (

    select * from {{ ref('int_scorecards__ranked') }}

),

history as (

    select
        partner_id || '-' || grain || '-' || period as tier_history_key,
        partner_id,
        grain,
        period,
        period_index,
        score,
        score_tier,
        previous_tier,
        tier,
        tier_change,
        up_streak as periods_qualifying_higher,
        down_streak as periods_below_tier

    from ranked

)

select * from history
