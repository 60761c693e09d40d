"""Settlement reconciliation: statements against their lines, the rebate
settlements they were built from, and the publication ledger.

The one place that knows how statements, their lines, the rebate tables and
the publication ledger are stored, so that a new ledger needs changes here
only. What the checks assume, today:

- ``marts.fct_rebate_statements``: one row per ``statement_key`` and
  ``period``, with ``partner_id`` and ``total_amount`` decimal(18,2);
- ``marts.fct_rebate_statement_lines``: rows keyed by ``statement_key`` with
  ``period`` and ``amount`` decimal(18,2);
- ``intermediate.int_rebates__settlements`` (the rebate table): what each
  program pays each partner per ``period`` (``amount``), before statements
  are assembled; ``config.rebate_adjustments`` the manual adjustments, of
  which those with ``approval = 'approved'`` are paid;
- ``marts.dim_partners``: the partners publication builds statements for
  (``channelops.publish`` joins statements to it);
- ``ops.statement_versions`` (the ledger, written by ``channelops.publish``):
  one row per published ``statement_key`` + ``version`` (1, 2, ...) with its
  ``period``, ``total_amount``, ``line_count`` and ``published_at``. It does
  not exist before the first publication; the ledger checks then have
  nothing to verify and pass;
- ``ops.settlement_ledger`` and ``ops.settlement_versions`` (also
  ``channelops.publish``, in the same transaction as the version): the
  movements of each version line by line, and the version's settlement
  record. A version's ``total_amount`` must equal the sum of its
  ``line_count`` movements. Only a version published by channelops 0.1.0,
  before movements were recorded, has none: it has no settlement record and
  is older than the first movement of the ledger.

Before publication the marts must agree with themselves (each statement's
total is the sum of its lines, every line belongs to a statement) and with
the rebate table (the period's statements add up to what the programs settle
plus the approved adjustments), every statement must be one publication
records (its partner is in ``marts.dim_partners``), and the ledger must be
intact: versions numbered 1..N without gaps or repeats, each with its
movements, and no statement published earlier for the quarter missing from
the marts now (publication would leave its old amount standing with
nothing to replace it).
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
SETTLEMENT_RECORDS = "ops.settlement_versions"
REBATE_SETTLEMENTS = "intermediate.int_rebates__settlements"
ADJUSTMENTS = "config.rebate_adjustments"
PARTNERS = "marts.dim_partners"

_REBUILD = (
    "The marts disagree with themselves: rerun the run (dbt rebuilds them); "
    "if it persists, report the dbt model with the sample rows."
)
_ZERO = "cast(0 as decimal(18, 2))"


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
        guards=(
            f"{STATEMENTS}, {STATEMENT_LINES}, {REBATE_SETTLEMENTS}, {LEDGER}, "
            f"{MOVEMENTS}"
        ),
        checks=(
            _totals_match_lines(scope, statements),
            _lines_belong_to_statements(scope, lines),
            _period_total_matches_settlements(scope, statements),
            _statements_reach_the_ledger(scope, statements),
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


def _period_total_matches_settlements(scope: Scope, statements: Batch) -> Check:
    period = sql_text(scope.label)
    return sql_check(
        "period_total_matches_rebate_settlements",
        statements,
        Severity.BLOCK,
        f"The {scope.label} statements add up to what the rebate programs "
        f"settle for {scope.label} ({REBATE_SETTLEMENTS}) plus the approved "
        f"adjustments ({ADJUSTMENTS}): sum of total_amount = sum of settled "
        "amounts, to the cent.",
        "The statements lost or gained money on the way from the rebate "
        "programs' settlements to the statement lines: rerun the run (dbt "
        "rebuilds them); if it persists, report the dbt model "
        "fct_rebate_statement_lines with the sample row.",
        f"""
select
    statement_total.amount as statements_total,
    settlement_total.amount as settlements_total,
    adjustment_total.amount as adjustments_total
from (
    select coalesce(sum(statement.total_amount), {_ZERO}) as amount
    from {{batch}} as statement
) as statement_total
cross join (
    select coalesce(sum(amount), {_ZERO}) as amount
    from {REBATE_SETTLEMENTS}
    where period = {period}
) as settlement_total
cross join (
    select coalesce(sum(amount), {_ZERO}) as amount
    from {ADJUSTMENTS}
    where period = {period} and approval = 'approved'
) as adjustment_total
where
    statement_total.amount
    <> settlement_total.amount + adjustment_total.amount
""",
    )


def _statements_reach_the_ledger(scope: Scope, statements: Batch) -> Check:
    return sql_check(
        "statements_reach_the_ledger",
        statements,
        Severity.BLOCK,
        f"Publication will record the whole {scope.label} total in the ledger: "
        f"every statement's partner is in {PARTNERS}, which publication builds "
        "statements for (a statement without it would be skipped).",
        "A statement would silently not be published: add the partner to the "
        "partners file (an approved adjustment may name a partner code that "
        "does not exist: correct it in config/adjustments.yml), then rerun.",
        f"""
select
    statement.statement_key,
    statement.partner_id,
    statement.total_amount
from {{batch}} as statement
left join {PARTNERS} as partner
    on partner.partner_id = statement.partner_id
where partner.partner_id is null
order by statement.statement_key
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
    # A version without movements passes only when it is channelops 0.1.0's:
    # no settlement record and published before the ledger's first movement.
    return sql_check(
        "statement_ledger_versions_match_movements",
        ledger,
        Severity.BLOCK,
        f"Every version published for {scope.label} has its line_count line "
        f"movements in {MOVEMENTS}, totalling its total_amount to the cent "
        "(only a version published by channelops 0.1.0, before movements were "
        "recorded, has none).",
        f"{MOVEMENTS} is append-only and no longer matches the published "
        "versions: restore it from the backup that matches the published "
        "files before publishing again.",
        f"""
select
    published.statement_key,
    published.version,
    published.line_count,
    published.total_amount,
    coalesce(movement.movement_count, 0) as movement_count,
    coalesce(movement.amount, {_ZERO}) as movement_amount
from {{batch}} as published
left join (
    select
        statement_key,
        version,
        count(*) as movement_count,
        sum(amount) as amount
    from {MOVEMENTS}
    where period = {sql_text(scope.label)}
    group by statement_key, version
) as movement
    on
        movement.statement_key = published.statement_key
        and movement.version = published.version
left join {SETTLEMENT_RECORDS} as settlement_record
    on
        settlement_record.statement_key = published.statement_key
        and settlement_record.version = published.version
cross join (
    select min(recorded_at) as first_recorded_at
    from {MOVEMENTS}
) as ledger_start
where
    (
        coalesce(movement.movement_count, 0) <> published.line_count
        or coalesce(movement.amount, {_ZERO}) <> published.total_amount
    )
    and not (
        movement.statement_key is null
        and settlement_record.statement_key is null
        and ledger_start.first_recorded_at is not null
        and published.published_at < ledger_start.first_recorded_at
    )
order by published.statement_key, published.version
""",
        requires_table=LEDGER,
        also_requires=MOVEMENTS,
    )
