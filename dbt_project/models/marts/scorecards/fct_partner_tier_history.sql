-- One row per partner per quarter and per month (`grain`): the tier the
-- score alone qualifies for, the tier held after hysteresis, the move
-- (entered, promoted, demoted, held), the streaks towards the next move and
-- the tier each would move to, and whether the tier is the one recorded
-- when the period was published (with the tier rules version then).

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
        pending_promotion_tier,
        down_streak as periods_below_tier,
        pending_demotion_tier,
        is_tier_recorded,
        recorded_rules_version as tier_rules_version

    from ranked

)

select * from history
