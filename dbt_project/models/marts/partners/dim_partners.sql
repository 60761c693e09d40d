-- One row per partner, with its upper-level distributor's name.

with

partners as (

    select * from {{ ref('stg_channel__partners') }}

),

joined as (

    select
        partners.partner_id,
        partners.parent_partner_id,
        partners.partner_name,
        parents.partner_name as parent_partner_name,
        partners.region,
        partners.partner_type,
        partners.partner_status,
        partners.joined_date

    from partners
    left join partners as parents
        on partners.parent_partner_id = parents.partner_id

)

select * from joined
