-- A statement's total must equal the sum of its printed lines, to the fen.

with

statements as (

    select * from {{ ref('fct_rebate_statements') }}

),

statement_lines as (

    select * from {{ ref('fct_rebate_statement_lines') }}

),

line_totals as (

    select
        statement_key,
        cast(sum(amount) as decimal(18, 2)) as lines_amount

    from statement_lines
    group by statement_key

)

select
    statements.statement_key,
    statements.total_amount,
    coalesce(line_totals.lines_amount, 0) as lines_amount

from statements
left join line_totals
    on statements.statement_key = line_totals.statement_key
where statements.total_amount <> coalesce(line_totals.lines_amount, 0)
