-- One row per complaint or ticket: the SLA program the partner falls under,
-- the first-response time on that program's clock (calendar hours, or only
-- the working hours of its calendar) and whether the reply came too late.
-- A complaint still unanswered is timed up to the last moment in the
-- feedback data, so it breaches once its time is up. Times are UTC, as the
-- pull stores them; the working hours come converted from their calendar's
-- time zone (channelops.rules.scorecard).

with

feedback as (

    select * from {{ ref('stg_channel__feedback') }}

),

partners as (

    select * from {{ ref('stg_channel__partners') }}

),

sla_programs as (

    select * from {{ ref('stg_rules__sla_programs') }}

),

working_hours as (

    select * from {{ ref('stg_rules__sla_working_hours') }}

),

data_as_of as (

    select max(coalesce(first_response_at, created_at)) as as_of_at
    from feedback

),

complaints as (

    select
        feedback.feedback_id,
        feedback.partner_id,
        feedback.feedback_kind,
        feedback.created_at,
        feedback.first_response_at,
        feedback.first_response_at is null as is_unanswered,
        coalesce(feedback.first_response_at, data_as_of.as_of_at)
            as clock_stopped_at,
        coalesce(typed.sla_program, fallback.sla_program) as sla_program,
        coalesce(typed.clock, fallback.clock) as sla_clock,
        coalesce(typed.calendar, fallback.calendar) as sla_calendar,
        coalesce(typed.response_hours, fallback.response_hours)
            as response_hours

    from feedback
    cross join data_as_of
    inner join partners
        on feedback.partner_id = partners.partner_id
    left join sla_programs as typed
        on partners.partner_type = typed.partner_type
    inner join sla_programs as fallback
        on fallback.partner_type is null
    where feedback.feedback_kind in ('complaint', 'ticket')

),

business_time as (

    select
        complaints.feedback_id,
        sum(
            greatest(
                {{ seconds_between(
                    'greatest(working_hours.work_start_at, '
                    ~ 'complaints.created_at)',
                    'least(working_hours.work_end_at, '
                    ~ 'complaints.clock_stopped_at)',
                ) }},
                0
            )
        ) as business_seconds

    from complaints
    inner join working_hours
        on
            complaints.sla_calendar = working_hours.calendar
            and complaints.clock_stopped_at > working_hours.work_start_at
            and complaints.created_at < working_hours.work_end_at
    where complaints.sla_clock = 'business'
    group by complaints.feedback_id

),

timed as (

    select
        complaints.*,
        case
            when complaints.sla_clock = 'business'
                then coalesce(business_time.business_seconds, 0)
            else
                {{ seconds_between(
                    'complaints.created_at', 'complaints.clock_stopped_at'
                ) }}
        end as elapsed_seconds

    from complaints
    left join business_time
        on complaints.feedback_id = business_time.feedback_id

),

judged as (

    select
        feedback_id,
        partner_id,
        feedback_kind,
        sla_program,
        sla_clock,
        sla_calendar,
        response_hours,
        cast(elapsed_seconds / 3600 as decimal(10, 2)) as elapsed_hours,
        cast(
            case when not is_unanswered then elapsed_seconds / 3600 end
            as decimal(10, 2)
        ) as first_response_hours,
        is_unanswered,
        elapsed_seconds > response_hours * 3600 as is_breached,
        created_at,
        first_response_at

    from timed

)

select * from judged
