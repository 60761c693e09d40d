-- One row per partner per month and per quarter: the tier after hysteresis.
-- A partner enters at the tier its first score qualifies for. After that it
-- moves up only when its score has qualified for a higher tier in
-- promote_after consecutive periods (to the lowest tier all of them
-- qualified for), and down only after demote_after consecutive periods
-- below its tier (to the highest tier any of them qualified for). A period
-- without a score keeps the tier and breaks both streaks.

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

first_periods as (

    select
        partner_id,
        grain,
        min(period_index) as period_index

    from scored
    group by partner_id, grain

),

walk as (

    select
        scored.partner_id,
        scored.grain,
        scored.period_index,
        scored.score_level,
        scored.score_level as tier_level,
        0 as up_streak,
        cast(null as integer) as up_level,
        0 as down_streak,
        cast(null as integer) as down_level

    from scored
    inner join first_periods
        on
            scored.partner_id = first_periods.partner_id
            and scored.grain = first_periods.grain
            and scored.period_index = first_periods.period_index

    union all

    select
        next_period.partner_id,
        next_period.grain,
        next_period.period_index,
        next_period.score_level,
        case
            when next_period.score_level is null then walk.tier_level
            when walk.tier_level is null then next_period.score_level
            when {{ promoted }} then {{ up_level }}
            when {{ demoted }} then {{ down_level }}
            else walk.tier_level
        end as tier_level,
        case
            when walk.tier_level is null or next_period.score_level is null
                then 0
            when {{ promoted }} then 0
            when {{ rising }} then walk.up_streak + 1
            else 0
        end as up_streak,
        case
            when walk.tier_level is null or next_period.score_level is null
                then null
            when {{ promoted }} then null
            when {{ rising }} then {{ up_level }}
        end as up_level,
        case
            when walk.tier_level is null or next_period.score_level is null
                then 0
            when {{ demoted }} then 0
            when {{ falling }} then walk.down_streak + 1
            else 0
        end as down_streak,
        case
            when walk.tier_level is null or next_period.score_level is null
                then null
            when {{ demoted }} then null
            when {{ falling }} then {{ down_level }}
        end as down_level

    from walk
    inner join scored as next_period
        on
            walk.partner_id = next_period.partner_id
            and walk.grain = next_period.grain
            and walk.period_index + 1 = next_period.period_index
    cross join settings

)

select * from walk
