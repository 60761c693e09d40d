-- One row per program version per order line that counts for it: sales
-- and returns (rebate credit notes never count) inside the program's scope,
-- booked inside the version's dates (is_effective) or inside the same dates
-- a year before (is_prior_year: growth compares with them; they never count
-- towards the version's own basis). A line can be both when a version runs
-- longer than a year. A return counts negative in the quarter it is booked
-- (clawback). A partner_tiers scope reads the scorecard tier the partner held
-- at the end of the quarter before the line's (the scorecard never reads
-- rebates, so this is no cycle); a partner without one is out of scope.
-- For a new-customer basis only the lines of customers new to the partner in
-- the accumulation period count: customers whose first sale with that
-- partner (any product, any scope) falls in the period. A line without a
-- customer id never counts as a new customer's. Each new customer is
-- counted once, on its first counted sale line of the period.
-- For a sub-distributor basis the lines are those of the partner's direct
-- sub-distributors (partners whose parent_partner_id it is), credited to
-- the parent: its override share on their volume. Scope applies to the
-- sub-distributor's lines.
-- For a co-marketing basis the lines are the partner's co-marketing
-- activities instead, each counted in the quarter it ends (completed) with
-- its invested cost and a quantity of 1; only region, partner type and
-- partner tier scope them.
with

order_lines as (

    select * from {{ ref('stg_channel__order_lines') }}

),

partners as (

    select * from {{ ref('stg_channel__partners') }}

),

programs as (

    select * from {{ ref('stg_rules__rebate_programs') }}

),

scope as (

    select * from {{ ref('stg_rules__rebate_scope') }}

),

-- The dimensions each program restricts, and the values it lists for them.
scope_dimensions as (

    select distinct
        program_key,
        dimension

    from scope

),

scope_values as (

    select distinct
        program_key,
        dimension,
        scope_value

    from scope

),

activities as (

    select * from {{ ref('stg_channel__activities') }}

),

scorecards as (

    select * from {{ ref('int_scorecards__ranked') }}

),

-- The scorecard tier a partner held at the end of each quarter, put in the
-- quarter after it: the tier a partner_tiers scope reads for that quarter.
held_tiers as (

    select
        partner_id,
        period_index + 1 as quarter_index,
        tier as partner_tier

    from scorecards
    where grain = 'quarter'

),

-- Each customer's first quarter with the partner, for a new-customer basis.
first_sales as (

    select
        partner_id,
        customer_id,
        min({{ quarter_index('order_date') }}) as first_quarter_index

    from order_lines
    where
        line_type = 'sale'
        and customer_id is not null
        -- Only a new-customer basis reads it: no grouping of every sale
        -- line when no program has one.
        and exists (
            select 1 from programs
            where programs.basis in ('new_customer_sales', 'new_customers')
        )
    group by partner_id, customer_id

),

lines_with_partner as (

    select
        order_lines.order_line_id,
        order_lines.order_id,
        order_lines.partner_id,
        partners.parent_partner_id,
        order_lines.customer_id,
        first_sales.first_quarter_index as customer_first_quarter_index,
        order_lines.product_id,
        order_lines.product_category,
        partners.region,
        partners.partner_type,
        held_tiers.partner_tier,
        order_lines.line_type,
        order_lines.net_amount,
        order_lines.quantity,
        order_lines.order_date

    from order_lines
    left join partners
        on order_lines.partner_id = partners.partner_id
    left join first_sales
        on
            order_lines.partner_id = first_sales.partner_id
            and order_lines.customer_id = first_sales.customer_id
    left join held_tiers
        on
            order_lines.partner_id = held_tiers.partner_id
            and {{ quarter_index('order_lines.order_date') }}
            = held_tiers.quarter_index
    where order_lines.line_type in ('sale', 'return')

),

scoped_lines as (

    select
        programs.program_key,
        programs.basis,
        case programs.basis
            when 'sub_distributor_sales'
                then lines_with_partner.parent_partner_id
            else lines_with_partner.partner_id
        end as partner_id,
        lines_with_partner.customer_id,
        lines_with_partner.line_type,
        lines_with_partner.customer_first_quarter_index
        >= case programs.accumulation
            when 'year'
                then
                    cast(
                        extract(year from lines_with_partner.order_date)
                        as integer
                    )
                    * 4
            else {{ quarter_index('lines_with_partner.order_date') }}
        end as is_new_customer,
        lines_with_partner.order_line_id,
        lines_with_partner.order_id,
        lines_with_partner.order_date,
        lines_with_partner.order_date >= programs.effective_from
            as is_effective,
        {{ rebate_in_prior_year('lines_with_partner.order_date') }}
            as is_prior_year,
        {{ quarter_label('lines_with_partner.order_date') }} as period,
        {{ quarter_index('lines_with_partner.order_date') }} as quarter_index,
        cast(
            case
                when lines_with_partner.line_type = 'return'
                    then -lines_with_partner.net_amount
                else lines_with_partner.net_amount
            end as decimal(18, 2)
        ) as signed_amount,
        cast(
            case
                when lines_with_partner.line_type = 'return'
                    then -lines_with_partner.quantity
                else lines_with_partner.quantity
            end as decimal(18, 3)
        ) as signed_quantity

    from lines_with_partner
    inner join programs
        on
            lines_with_partner.order_date
            >= {{ dbt.dateadd('year', -1, 'programs.effective_from') }}
            and (
                programs.effective_to is null
                or lines_with_partner.order_date <= programs.effective_to
            )
    {{ rebate_scope_join('product_id', 'lines_with_partner.product_id') }}
    {{ rebate_scope_join(
        'product_category', 'lines_with_partner.product_category'
    ) }}
    {{ rebate_scope_join('region', 'lines_with_partner.region') }}
    {{ rebate_scope_join('partner_type', 'lines_with_partner.partner_type') }}
    {{ rebate_scope_join('partner_tier', 'lines_with_partner.partner_tier') }}
    where
        (
            programs.basis <> 'sub_distributor_sales'
            or lines_with_partner.parent_partner_id is not null
        )
        and {{ rebate_in_scope('product_id') }}
        and {{ rebate_in_scope('product_category') }}
        and {{ rebate_in_scope('region') }}
        and {{ rebate_in_scope('partner_type') }}
        and {{ rebate_in_scope('partner_tier') }}

),

eligible_lines as (

    select
        program_key,
        partner_id,
        order_line_id,
        order_id,
        order_date,
        is_effective,
        is_prior_year,
        period,
        quarter_index,
        signed_amount,
        signed_quantity,
        case
            when
                basis = 'new_customers'
                and line_type = 'sale'
                and row_number() over (
                    partition by
                        program_key,
                        partner_id,
                        customer_id,
                        is_new_customer,
                        line_type
                    order by order_date, order_line_id
                ) = 1
                then 1
            else 0
        end as new_customer_count

    from scoped_lines
    where
        basis not in (
            'new_customer_sales',
            'new_customers',
            'co_marketing_spend',
            'co_marketing_activities'
        )
        or (
            coalesce(is_new_customer, false)
            and basis in ('new_customer_sales', 'new_customers')
        )

),

activity_lines as (

    select
        programs.program_key,
        activities.partner_id,
        activities.activity_id as order_line_id,
        activities.activity_id as order_id,
        activities.end_date as order_date,
        activities.end_date >= programs.effective_from as is_effective,
        {{ rebate_in_prior_year('activities.end_date') }} as is_prior_year,
        {{ quarter_label('activities.end_date') }} as period,
        {{ quarter_index('activities.end_date') }} as quarter_index,
        cast(
            coalesce(activities.cost_amount, 0) as decimal(18, 2)
        ) as signed_amount,
        cast(1 as decimal(18, 3)) as signed_quantity,
        0 as new_customer_count

    from activities
    left join partners
        on activities.partner_id = partners.partner_id
    left join held_tiers
        on
            activities.partner_id = held_tiers.partner_id
            and {{ quarter_index('activities.end_date') }}
            = held_tiers.quarter_index
    inner join programs
        on
            activities.end_date
            >= {{ dbt.dateadd('year', -1, 'programs.effective_from') }}
            and (
                programs.effective_to is null
                or activities.end_date <= programs.effective_to
            )
    {{ rebate_scope_join('region', 'partners.region') }}
    {{ rebate_scope_join('partner_type', 'partners.partner_type') }}
    {{ rebate_scope_join('partner_tier', 'held_tiers.partner_tier') }}
    where
        activities.activity_type = 'co_marketing'
        and programs.basis in ('co_marketing_spend', 'co_marketing_activities')
        and {{ rebate_in_scope('region') }}
        and {{ rebate_in_scope('partner_type') }}
        and {{ rebate_in_scope('partner_tier') }}

),

counted_lines as (

    select * from eligible_lines
    union all
    select * from activity_lines

)

select * from counted_lines
