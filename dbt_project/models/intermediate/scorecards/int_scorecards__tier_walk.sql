-- One row per partner per month and per quarter: the tier after hysteresis.
-- A partner enters at the tier its first score qualifies for. After that it
-- moves up only when its score has qualified for a higher tier in
-- promote_after consecutive periods (to the lowest tier all of them
-- qualified for), and down only after demote_after consecutive periods
-- below its tier (to the highest tier any of them qualified for). A period
-- without a score keeps the tier and breaks both streaks.
-- A period whose tier was recorded when its scorecard or statement was
-- published (ops.partner_tier_records) keeps the recorded tier and
-- streaks, whatever the rules say now, and the walk goes on from there: a
-- changed threshold moves only the periods not published yet.

-- A table, not a view: several marts read it, and PostgreSQL would run
-- the whole chain (with its recursion) again for each of them.
{{ config(materialized='table') }}

{%- set rising = 'next_period.score_level > walk.tier_level' %}
{%- set falling = 'next_period.score_level < walk.tier_level' %}
{%- set promoted = rising
    ~ ' and walk.up_streak + 1 >= settings.promote_after' %}
{%- set demoted = falling
    ~ ' and walk.down_streak + 1 >= settings.demote_after' %}
{%- set up_level = 'case when walk.up_streak = 0 then next_period.score_level'
    ~ ' else least(walk.up_level, next_period.score_level) end' %}
{%- set down_level = 'case when walk.down_streak = 0'
    ~ ' then next_period.score_level'
    ~ ' else greatest(walk.down_level, next_period.score_level) end' %}

with recursive

scored as (

    select * from {{ ref('int_scorecards__scored') }}

),

settings as (

    select * from {{ ref('stg_rules__scorecard_settings') }}

),

tier_rules as (

    select * from {{ ref('stg_rules__scorecard_tiers') }}

),

records as (

    select * from {{ source('ops', 'partner_tier_records') }}

),

-- A record whose tier the rules no longer name cannot be continued: the
-- walk recomputes that period (docs/scorecards.md).
recorded as (

    select
        records.partner_id,
        records.grain,
        records.period_index,
        held.tier_level,
        records.up_streak,
        promote_to.tier_level as up_level,
        records.down_streak,
        demote_to.tier_level as down_level,
        records.tier_rules_version

    from records
    inner join tier_rules as held
        on records.tier = held.tier
    left join tier_rules as promote_to
        on records.pending_promotion_tier = promote_to.tier
    left join tier_rules as demote_to
        on records.pending_demotion_tier = demote_to.tier

),

periods as (

    select
        scored.partner_id,
        scored.grain,
        scored.period_index,
        scored.score_level,
        recorded.partner_id is not null as is_recorded,
        recorded.tier_level as recorded_tier_level,
        recorded.up_streak as recorded_up_streak,
        recorded.up_level as recorded_up_level,
        recorded.down_streak as recorded_down_streak,
        recorded.down_level as recorded_down_level,
        recorded.tier_rules_version as recorded_rules_version

    from scored
    left join recorded
        on
            scored.partner_id = recorded.partner_id
            and scored.grain = recorded.grain
            and scored.period_index = recorded.period_index

),

first_periods as (

    select
        partner_id,
        grain,
        min(period_index) as period_index

    from periods
    group by partner_id, grain

),

walk as (

    select
        periods.partner_id,
        periods.grain,
        periods.period_index,
        periods.score_level,
        case
            when periods.is_recorded then periods.recorded_tier_level
            else periods.score_level
        end as tier_level,
        case
            when periods.is_recorded then periods.recorded_up_streak else 0
        end as up_streak,
        case
            when periods.is_recorded then periods.recorded_up_level
        end as up_level,
        case
            when periods.is_recorded then periods.recorded_down_streak else 0
        end as down_streak,
        case
            when periods.is_recorded then periods.recorded_down_level
        end as down_level,
        periods.is_recorded,
        periods.recorded_rules_version

    from periods
    inner join first_periods
        on
            periods.partner_id = first_periods.partner_id
            and periods.grain = first_periods.grain
            and periods.period_index = first_periods.period_index

    union all

    select
        next_period.partner_id,
        next_period.grain,
        next_period.period_index,
        next_period.score_level,
        case
            when next_period.is_recorded then next_period.recorded_tier_level
            when next_period.score_level is null then walk.tier_level
            when walk.tier_level is null then next_period.score_level
            when {{ promoted }} then {{ up_level }}
            when {{ demoted }} then {{ down_level }}
            else walk.tier_level
        end as tier_level,
        case
            when next_period.is_recorded then next_period.recorded_up_streak
            when walk.tier_level is null or next_period.score_level is null
                then 0
            when {{ promoted }} then 0
            when {{ rising }} then walk.up_streak + 1
            else 0
        end as up_streak,
        case
            when next_period.is_recorded then next_period.recorded_up_level
            when walk.tier_level is null or next_period.score_level is null
                then null
            when {{ promoted }} then null
            when {{ rising }} then {{ up_level }}
        end as up_level,
        case
            when next_period.is_recorded then next_period.recorded_down_streak
            when walk.tier_level is null or next_period.score_level is null
                then 0
            when {{ demoted }} then 0
            when {{ falling }} then walk.down_streak + 1
            else 0
        end as down_streak,
        case
            when next_period.is_recorded then next_period.recorded_down_level
            when walk.tier_level is null or next_period.score_level is null
                then null
            when {{ demoted }} then null
            when {{ falling }} then {{ down_level }}
        end as down_level,
        next_period.is_recorded,
        next_period.recorded_rules_version

    from walk
    inner join periods as next_period
        on
            walk.partner_id = next_period.partner_id
            and walk.grain = next_period.grain
            and walk.period_index + 1 = next_period.period_index
    cross join settings

)

select * from walk
