-- One row per partner per month and per quarter: metrics, score, the tier
-- after hysteresis with its move (as recorded when the period was
-- published), and the rank and percentile among the scored partners of the
-- period, of the same tier and of the same region.

-- A table, not a view: several marts read it, and PostgreSQL would run
-- the whole chain (with its recursion) again for each of them.
{{ config(materialized='table') }}

with

scored as (

    select * from {{ ref('int_scorecards__scored') }}

),

tier_walk as (

    select * from {{ ref('int_scorecards__tier_walk') }}

),

tier_rules as (

    select * from {{ ref('stg_rules__scorecard_tiers') }}

),

settings as (

    select * from {{ ref('stg_rules__scorecard_settings') }}

),

tiered as (

    select
        scored.*,
        tier_walk.tier_level,
        tier_walk.up_streak,
        tier_walk.up_level,
        tier_walk.down_streak,
        tier_walk.down_level,
        tier_walk.is_recorded as is_tier_recorded,
        tier_walk.recorded_rules_version,
        lag(tier_walk.tier_level) over (
            partition by scored.partner_id, scored.grain
            order by scored.period_index
        ) as previous_tier_level

    from scored
    inner join tier_walk
        on
            scored.partner_id = tier_walk.partner_id
            and scored.grain = tier_walk.grain
            and scored.period_index = tier_walk.period_index

),

labelled as (

    select
        tiered.*,
        coalesce(held_tier.tier, settings.insufficient_tier) as tier,
        coalesce(held_tier.label_zh, insufficient.label_zh) as tier_label_zh,
        coalesce(held_tier.label_en, insufficient.label_en) as tier_label_en,
        held_tier.min_score as tier_min_score,
        next_tier.tier as next_tier,
        next_tier.min_score as next_tier_min_score,
        score_tier.tier as score_tier,
        previous_tier.tier as previous_tier,
        promote_to.tier as pending_promotion_tier,
        demote_to.tier as pending_demotion_tier,
        case
            when tiered.tier_level is null then null
            when tiered.previous_tier_level is null then 'entered'
            when tiered.tier_level > tiered.previous_tier_level
                then 'promoted'
            when tiered.tier_level < tiered.previous_tier_level
                then 'demoted'
            else 'held'
        end as tier_change

    from tiered
    cross join settings
    left join tier_rules as held_tier
        on tiered.tier_level = held_tier.tier_level
    left join tier_rules as next_tier
        on tiered.tier_level + 1 = next_tier.tier_level
    left join tier_rules as score_tier
        on tiered.score_level = score_tier.tier_level
    left join tier_rules as previous_tier
        on tiered.previous_tier_level = previous_tier.tier_level
    left join tier_rules as promote_to
        on tiered.up_level = promote_to.tier_level
    left join tier_rules as demote_to
        on tiered.down_level = demote_to.tier_level
    left join tier_rules as insufficient
        on settings.insufficient_tier = insufficient.tier

),

ranked as (

    select
        *,
        case
            when score is not null
                then rank() over (
                    partition by grain, period_index, score is null
                    order by score desc
                )
        end as score_rank,
        count(score) over (partition by grain, period_index)
            as scored_partner_count,
        case
            when score is not null
                then rank() over (
                    partition by grain, period_index, tier, score is null
                    order by score desc
                )
        end as tier_rank,
        count(score) over (partition by grain, period_index, tier)
            as tier_scored_count,
        case
            when score is not null
                then rank() over (
                    partition by grain, period_index, region, score is null
                    order by score desc
                )
        end as region_rank,
        count(score) over (partition by grain, period_index, region)
            as region_scored_count

    from labelled

),

with_percentiles as (

    select
        *,
        {{ percentile('tier_rank', 'tier_scored_count') }}
            as tier_percentile,
        {{ percentile('region_rank', 'region_scored_count') }}
            as region_percentile

    from ranked

)

select * from with_percentiles
