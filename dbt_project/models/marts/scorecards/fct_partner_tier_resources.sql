-- One row per partner per quarter per resource its tier is given
-- (config/scorecard.yml, tiers[].resources).

with

scorecards as (

    select * from {{ ref('fct_partner_scorecard') }}

),

resources as (

    select * from {{ ref('stg_rules__scorecard_tier_resources') }}

),

allotted as (

    select
        scorecards.partner_id || '-' || scorecards.period || '-'
        || resources.resource as allotment_key,
        scorecards.partner_id,
        scorecards.period,
        scorecards.tier,
        resources.resource,
        resources.label_zh,
        resources.label_en,
        resources.quantity

    from scorecards
    inner join resources
        on scorecards.tier = resources.tier

)

select * from allotted
