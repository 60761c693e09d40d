-- One row per partner per quarter and per month (`grain`) per metric of the
-- scorecard rules: the value, the floor and cap it was rated against (a
-- third of the quarterly ones for a month's volume metric), the points and
-- whether they count in the score. The score is the weighted mean of the
-- points that count, rounded half up to two places; the scorecard e-mail
-- shows these rows as they are.

with

metric_points as (

    select * from {{ ref('int_scorecards__metric_points') }}

),

keyed as (

    select
        partner_id || '-' || grain || '-' || period || '-' || metric
            as scorecard_point_key,
        *

    from metric_points

)

select * from keyed
