-- One row per partner contact who receives statements.

with

contacts as (

    select * from {{ ref('stg_channel__partner_contacts') }}

)

select
    partner_id || '-' || email as contact_key,
    partner_id,
    email,
    contact_name,
    language

from contacts
