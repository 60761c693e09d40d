-- One row per partner per quarter from the partner's first ordering quarter:
-- metrics, weighted score, tier after hysteresis, ranks and percentiles
-- (rules in config/scorecard.yml).

with

ranked as (

    select * from {{ ref('int_scorecards__ranked') }}

),

quarterly as (

    select
        {{ scorecard_columns() }},
        period_index as quarter_index

    from ranked
    where grain = 'quarter'

)

select * from quarterly
