-- One row per partner per quarter and per month (`grain`) on the watchlist:
-- close to the next tier (within the margin, or already qualifying and
-- waiting out the hysteresis) or at risk of dropping one (below its tier's
-- floor, or within the margin above it).

with

ranked as (

    select * from {{ ref('int_scorecards__ranked') }}

),

settings as (

    select * from {{ ref('stg_rules__scorecard_settings') }}

),

watched as (

    select
        ranked.partner_id,
        ranked.grain,
        ranked.period,
        ranked.period_index,
        ranked.region,
        ranked.tier,
        ranked.score,
        ranked.next_tier,
        ranked.next_tier_min_score,
        ranked.tier_min_score,
        case
            when ranked.up_streak > 0 then 'promotion_pending'
            when
                ranked.next_tier is not null
                and ranked.next_tier_min_score - ranked.score
                <= settings.watch_margin_points
                then 'near_next_tier'
            when ranked.down_streak > 0 then 'demotion_pending'
            when
                ranked.tier_level > 0
                and ranked.score - ranked.tier_min_score
                < settings.watch_margin_points
                then 'near_tier_floor'
        end as watch_reason,
        ranked.up_streak as periods_qualifying_higher,
        ranked.down_streak as periods_below_tier,
        settings.promote_after,
        settings.demote_after

    from ranked
    cross join settings
    where ranked.score is not null and ranked.tier_level is not null

),

listed as (

    select
        partner_id || '-' || grain || '-' || period as watchlist_key,
        *,
        case
            when watch_reason in ('promotion_pending', 'near_next_tier')
                then 'up'
            else 'down'
        end as direction

    from watched
    where watch_reason is not null

)

select * from listed
