-- One row per partner per month from the partner's first ordering month:
-- the quarterly scorecard's metrics, score, tier and ranks, month by month
-- (growth is on the previous month and on the same month a year before).

with

ranked as (

    select * from {{ ref('int_scorecards__ranked') }}

),

monthly as (

    select {{ scorecard_columns() }}
    from ranked
    where grain = 'month'

)

select * from monthly
