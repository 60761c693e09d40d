"""Settlement reconciliation: statements against their lines and the ledger.

The one place that knows how statements, their lines and the publication
ledger are stored, so that a new ledger needs changes here only. What the
checks assume, today:

- ``marts.fct_rebate_statements``: one row per ``statement_key`` and
  ``period``, with ``total_amount`` decimal(18,2);
- ``marts.fct_rebate_statement_lines``: rows keyed by ``statement_key`` with
  ``period`` and ``amount`` decimal(18,2) (the rebate table);
- ``ops.statement_versions`` (the ledger, written by ``channelops.publish``):
  one row per published ``statement_key`` + ``version`` (1, 2, ...) with its
  ``period`` and ``total_amount``. It does not exist before the first
  publication; the ledger checks then have nothing to verify and pass;
- ``ops.settlement_ledger`` (also ``channelops.publish``): the movements of
  each published version line by line; a version's ``total_amount`` in
  ``ops.statement_versions`` must equal the sum of its movements (versions
  published before the ledger existed have no movements and are skipped).

Before publication the marts must agree with themselves (each statement's
total is the sum of its lines, every line belongs to a statement, the
period's statements add up to its rebate lines), and the ledger must be
intact: versions numbered 1..N without gaps or repeats, and no statement
published earlier for the quarter missing from the marts now (publication
would leave its old amount standing with nothing to replace it).
"""

from __future__ import annotations

from expectations.checks import (
    Batch,
    Check,
    Scope,
    Severity,
    Suite,
    sql_check,
    sql_text,
)
from expectations.suites.marts import STATEMENT_LINES, STATEMENTS

LEDGER = "ops.statement_versions"
MOVEMENTS = "ops.settlement_ledger"

_REBUILD = (
    "The marts disagree with themselves: rerun the run (dbt rebuilds them); "
    "if it persists, report the dbt model with the sample rows."
)


def settlement_suite(scope: Scope) -> Suite:
    """Reconcile the quarter's statements, their lines and the ledger."""
    period = sql_text(scope.label)
    statements = Batch(
        table=STATEMENTS,
        label="period",
        condition=f"period = {period}",
        key_columns=("statement_key",),
    )
    lines = Batch(
        table=STATEMENT_LINES,
        label="period",
        condition=f"period = {period}",
        key_columns=("statement_key",),
    )
    ledger = Batch(
        table=LEDGER,
        label="period",
        condition=f"period = {period}",
        key_columns=("statement_key", "version"),
    )
    return Suite(
        name="settlement",
        kind="reconciliation",
        guards=f"{STATEMENTS}, {STATEMENT_LINES}, {LEDGER}, {MOVEMENTS}",
        checks=(
            _totals_match_lines(scope, statements),
            _lines_belong_to_statements(scope, lines),
            _period_total_matches_lines(scope, statements),
            _ledger_versions_contiguous(scope, ledger),
            _ledger_statements_still_computed(scope, ledger),
            _ledger_versions_match_movements(scope, ledger),
        ),
    )


def _totals_match_lines(scope: Scope, statements: Batch) -> Check:
    return sql_check(
        "statement_totals_match_lines",
        statements,
        Severity.BLOCK,
        f"Every {scope.label} statement's total_amount equals the sum of its "
        "lines' amounts, to the cent.",
        _REBUILD,
        f"""
select
    statement.statement_key,
    statement.total_amount,
    coalesce(line_total.amount, cast(0 as decimal(18, 2))) as lines_amount
from {{batch}} as statement
left join (
    select
        statement_key,
        sum(amount) as amount
    from {STATEMENT_LINES}
    where period = {sql_text(scope.label)}
    group by statement_key
) as line_total
    on line_total.statement_key = statement.statement_key
where
    statement.total_amount is null
    or statement.total_amount
        <> coalesce(line_total.amount, cast(0 as decimal(18, 2)))
order by statement.statement_key
""",
    )


def _lines_belong_to_statements(scope: Scope, lines: Batch) -> Check:
    return sql_check(
        "statement_lines_belong_to_statements",
        lines,
        Severity.BLOCK,
        f"Every {scope.label} statement line belongs to a {scope.label} statement.",
        _REBUILD,
        f"""
select
    statement_line.statement_key,
    statement_line.line_no,
    statement_line.amount
from {{batch}} as statement_line
left join {STATEMENTS} as statement
    on
        statement.statement_key = statement_line.statement_key
        and statement.period = statement_line.period
where statement.statement_key is null
order by statement_line.statement_key, statement_line.line_no
""",
    )


def _period_total_matches_lines(scope: Scope, statements: Batch) -> Check:
    zero = "cast(0 as decimal(18, 2))"
    return sql_check(
        "period_total_matches_rebate_lines",
        statements,
        Severity.BLOCK,
        f"The {scope.label} statements add up to the {scope.label} rebate "
        "lines: sum of total_amount = sum of line amounts.",
        _REBUILD,
        f"""
select
    statement_total.amount as statements_total,
    line_total.amount as lines_total
from (
    select coalesce(sum(statement.total_amount), {zero}) as amount
    from {{batch}} as statement
) as statement_total
cross join (
    select coalesce(sum(amount), {zero}) as amount
    from {STATEMENT_LINES}
    where period = {sql_text(scope.label)}
) as line_total
where statement_total.amount <> line_total.amount
""",
    )


def _ledger_versions_contiguous(scope: Scope, ledger: Batch) -> Check:
    return sql_check(
        "statement_ledger_versions_contiguous",
        ledger,
        Severity.BLOCK,
        f"Every statement published for {scope.label} has versions 1 to N in "
        f"{LEDGER}, each once.",
        f"{LEDGER} is append-only and was changed by hand or by a failed "
        "restore: restore it from the backup that matches the published "
        "files before publishing again.",
        """
select
    version_count.statement_key,
    version_count.row_count,
    version_count.version_count,
    version_count.first_version,
    version_count.last_version
from (
    select
        published.statement_key,
        count(*) as row_count,
        count(distinct published.version) as version_count,
        min(published.version) as first_version,
        max(published.version) as last_version
    from {batch} as published
    cross join (select 1 as one) as gate_parameter
    group by published.statement_key
) as version_count
where
    version_count.first_version <> 1
    or version_count.last_version <> version_count.version_count
    or version_count.row_count <> version_count.version_count
order by version_count.statement_key
""",
        requires_table=LEDGER,
    )


def _ledger_statements_still_computed(scope: Scope, ledger: Batch) -> Check:
    return sql_check(
        "statement_ledger_statements_still_computed",
        ledger,
        Severity.BLOCK,
        f"Every statement already published for {scope.label} is still in "
        f"{STATEMENTS}.",
        "A published statement's partner or sales vanished from the input: "
        "restore the missing rows (see the order_lines suite) or, if the "
        "statement must be withdrawn, have finance issue a correction; the "
        "gate will not publish over it.",
        f"""
select distinct
    published.statement_key,
    published.partner_id
from {{batch}} as published
left join {STATEMENTS} as statement
    on statement.statement_key = published.statement_key
where statement.statement_key is null
order by published.statement_key
""",
        requires_table=LEDGER,
    )


def _ledger_versions_match_movements(scope: Scope, ledger: Batch) -> Check:
    return sql_check(
        "statement_ledger_versions_match_movements",
        ledger,
        Severity.BLOCK,
        f"Every version published for {scope.label} totals the sum of its "
        f"line movements in {MOVEMENTS}, to the cent.",
        f"{MOVEMENTS} is append-only and no longer matches the published "
        "versions: restore it from the backup that matches the published "
        "files before publishing again.",
        f"""
select
    published.statement_key,
    published.version,
    published.total_amount,
    movement.amount as movement_amount
from {{batch}} as published
inner join (
    select
        statement_key,
        version,
        sum(amount) as amount
    from {MOVEMENTS}
    where period = {sql_text(scope.label)}
    group by statement_key, version
) as movement
    on
        movement.statement_key = published.statement_key
        and movement.version = published.version
where movement.amount <> published.total_amount
order by published.statement_key, published.version
""",
        requires_table=LEDGER,
        also_requires=MOVEMENTS,
    )
