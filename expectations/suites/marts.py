"""One suite per published mart: scorecards, rebate statements, statement lines.

Each reads the mart's rows for the quarter being settled; the monthly
scorecard suite (``monthly_scorecard_suite``) reads the month a monthly
scorecard run mails. Scorecard checks are keyed on ``period`` +
``partner_id``. Totals and the ledger are reconciled in
``expectations.suites.settlement``.
"""

from __future__ import annotations

from dataclasses import dataclass

from great_expectations.expectations.core.expect_column_values_to_be_between import (
    ExpectColumnValuesToBeBetween,
)
from great_expectations.expectations.core.expect_column_values_to_be_in_set import (
    ExpectColumnValuesToBeInSet,
)
from great_expectations.expectations.core.expect_column_values_to_be_unique import (
    ExpectColumnValuesToBeUnique,
)
from great_expectations.expectations.core.expect_column_values_to_not_be_null import (
    ExpectColumnValuesToNotBeNull,
)
from great_expectations.expectations.core.expect_compound_columns_to_be_unique import (
    ExpectCompoundColumnsToBeUnique,
)
from great_expectations.expectations.core.expect_table_row_count_to_be_between import (
    ExpectTableRowCountToBeBetween,
)

from expectations.checks import (
    Batch,
    Check,
    Scope,
    Severity,
    Suite,
    Window,
    sql_check,
    sql_decimal,
    sql_text,
)
from expectations.suites.shape import Column, columns_check

SCORECARD = "marts.fct_partner_scorecard"
MONTHLY_SCORECARD = "marts.fct_partner_scorecard_monthly"
CHURN_RISK = "marts.fct_churn_risk"
RISK_LEVELS = ("none", "low", "medium", "high")
STATEMENTS = "marts.fct_rebate_statements"
STATEMENT_LINES = "marts.fct_rebate_statement_lines"

_MODEL_CHANGED = (
    "The dbt model no longer gives the columns publication reads: fix the "
    "model (money stays decimal(18,2)) and rerun."
)
_REBUILD = (
    "Rerun the run (dbt rebuilds the marts); if it fails again, the dbt "
    "model is wrong: report it with the sample rows."
)


def mart_suites(scope: Scope) -> tuple[Suite, ...]:
    """The suites of the published marts, in publication order."""
    return (
        _scorecard_suite(scope),
        _statements_suite(scope),
        _statement_lines_suite(scope),
        _churn_risk_suite(scope),
    )


def _period_batch(table: str, period: str, *keys: str) -> Batch:
    return Batch(
        table=table,
        label="period",
        condition=f"period = {sql_text(period)}",
        key_columns=keys,
    )


def _active_partners_with_sales(window: Window) -> str:
    # Partners whose order lines of the window include a sale or a return.
    return f"""
    select distinct order_line.partner_id
    from raw.order_lines as order_line
    inner join raw.partners as partner
        on partner.partner_id = order_line.partner_id
    where
        coalesce(partner.status, 'active') = 'active'
        and order_line.line_type in ('sale', 'return')
        and {window.condition("order_line.order_date")}"""


def _covers_partners(
    name: str, table: str, period: str, window: Window, noun: str, alias: str
) -> Check:
    return sql_check(
        name,
        _period_batch(table, period, "partner_id"),
        Severity.BLOCK,
        f"Every active partner with sales or returns dated in {period} "
        f"has a {noun} for {period}.",
        f"A partner would be left out: {_REBUILD[0].lower()}{_REBUILD[1:]}",
        f"""
select with_sales.partner_id
from ({_active_partners_with_sales(window)}
) as with_sales
left join {{batch}} as {alias}
    on {alias}.partner_id = with_sales.partner_id
where {alias}.partner_id is null
order by with_sales.partner_id
""",
    )


def _present(table: str, period: str, name: str) -> Check:
    return Check(
        name=name,
        batch=_period_batch(table, period),
        severity=Severity.BLOCK,
        description=f"{table} has rows for {period}.",
        remedy=(
            f"Nothing was built for {period}: check that the period's order "
            "lines loaded (see the order_lines suite), then rerun the run."
        ),
        expectation=ExpectTableRowCountToBeBetween,
        arguments={"min_value": 1},
    )


@dataclass(frozen=True)
class _Scorecards:
    """One scorecard mart for one period: what its suite is declared for."""

    suite: str
    table: str
    period: str
    window: Window
    # How the checks name one row: "2026Q3 scorecard", "2026-09 monthly scorecard".
    noun: str
    # The columns what the mart feeds reads.
    columns: tuple[Column, ...]
    reader: str


def _scorecard_suite(scope: Scope) -> Suite:
    return _scorecards_suite(
        _Scorecards(
            suite="partner_scorecard",
            table=SCORECARD,
            period=scope.label,
            window=scope.quarter,
            noun="scorecard",
            columns=(
                Column("partner_id", "text"),
                Column("period", "text"),
                Column("net_sales", "decimal", 2),
                Column("score", "decimal", 2),
                Column("tier", "text"),
            ),
            reader="the publication",
        ),
        present_name="partner_scorecard_present_in_period",
    )


def monthly_scorecard_suite(scope: Scope) -> Suite:
    """What a monthly scorecard run mails: each partner's scorecard of the month."""
    if scope.month is None:
        raise ValueError(
            "monthly scorecard suite: expected a scope with a month "
            "(Scope.for_month), received one for the quarter "
            f"{scope.label!r}"
        )
    month = scope.month
    return _scorecards_suite(
        _Scorecards(
            suite="partner_scorecard_monthly",
            table=MONTHLY_SCORECARD,
            period=month.label,
            window=Window(month.first_day, month.next().first_day),
            noun="monthly scorecard",
            columns=(
                Column("partner_id", "text"),
                Column("period", "text"),
                Column("score", "decimal", 2),
                Column("tier", "text"),
                Column("tier_label_zh", "text"),
                Column("tier_label_en", "text"),
                Column("score_rank", "integer"),
                Column("scored_partner_count", "integer"),
            ),
            reader="the scorecard e-mail",
        ),
        present_name="partner_scorecard_monthly_present_in_month",
    )


def _scorecards_suite(mart: _Scorecards, *, present_name: str) -> Suite:
    batch = _period_batch(mart.table, mart.period, "partner_id", "period")
    name = mart.suite
    return Suite(
        name=name,
        kind="mart",
        guards=mart.table,
        checks=(
            columns_check(
                f"{name}_columns_present",
                mart.table,
                mart.columns,
                guards=mart.reader,
                remedy=_MODEL_CHANGED,
            ),
            _present(mart.table, mart.period, present_name),
            Check(
                name=f"{name}_partner_id_not_null",
                batch=batch,
                severity=Severity.BLOCK,
                description=f"Every {mart.period} {mart.noun} names its partner.",
                remedy=_REBUILD,
                expectation=ExpectColumnValuesToNotBeNull,
                arguments={"column": "partner_id"},
            ),
            Check(
                name=f"{name}_partner_period_unique",
                batch=batch,
                severity=Severity.BLOCK,
                description=(
                    f"The {mart.period} {mart.noun} has one row per partner "
                    "(partner_id, period is unique)."
                ),
                remedy=_REBUILD,
                expectation=ExpectCompoundColumnsToBeUnique,
                arguments={"column_list": ["partner_id", "period"]},
            ),
            _covers_partners(
                f"{name}_covers_active_partners",
                mart.table,
                mart.period,
                mart.window,
                mart.noun,
                "scorecard",
            ),
            Check(
                name=f"{name}_score_in_range",
                batch=batch,
                severity=Severity.BLOCK,
                description=f"Every {mart.period} score lies between 0 and 100.",
                remedy=_REBUILD,
                expectation=ExpectColumnValuesToBeBetween,
                arguments={"column": "score", "min_value": 0, "max_value": 100},
            ),
            sql_check(
                f"{name}_tier_configured",
                batch,
                Severity.BLOCK,
                f"Every {mart.period} {mart.noun}'s tier is one of "
                "config/scorecard.yml.",
                "The tiers changed after the models were built: rerun the run "
                "(it reloads the rules before dbt rebuilds the marts).",
                """
select scorecard.partner_id, scorecard.tier
from {batch} as scorecard
left join config.scorecard_tiers as tier_rule
    on tier_rule.tier = scorecard.tier
where tier_rule.tier is null
order by scorecard.partner_id
""",
            ),
        ),
    )


def _churn_risk_suite(scope: Scope) -> Suite:
    """What the nightly warnings e-mail reads: one risk level per partner."""
    batch = Batch(
        table=CHURN_RISK,
        label="period",
        condition=f"grain = 'quarter' and period = {sql_text(scope.label)}",
        key_columns=("partner_id", "period"),
    )
    return Suite(
        name="churn_risk",
        kind="mart",
        guards=CHURN_RISK,
        checks=(
            columns_check(
                "churn_risk_columns_present",
                CHURN_RISK,
                (
                    Column("partner_id", "text"),
                    Column("grain", "text"),
                    Column("period", "text"),
                    Column("risk_level", "text"),
                    Column("reason_count", "integer"),
                ),
                guards="the ops warnings e-mail",
                remedy=_MODEL_CHANGED,
            ),
            Check(
                name="churn_risk_partner_period_unique",
                batch=batch,
                severity=Severity.BLOCK,
                description=(
                    f"The {scope.label} churn risk has one row per partner "
                    "(partner_id, grain, period is unique)."
                ),
                remedy=_REBUILD,
                expectation=ExpectCompoundColumnsToBeUnique,
                arguments={"column_list": ["partner_id", "grain", "period"]},
            ),
            Check(
                name="churn_risk_level_known",
                batch=batch,
                severity=Severity.BLOCK,
                description=(
                    f"Every {scope.label} risk level is one of "
                    + ", ".join(RISK_LEVELS)
                    + "."
                ),
                remedy=_REBUILD,
                expectation=ExpectColumnValuesToBeInSet,
                arguments={"column": "risk_level", "value_set": list(RISK_LEVELS)},
            ),
        ),
    )


def _statements_suite(scope: Scope) -> Suite:
    batch = _period_batch(STATEMENTS, scope.label, "statement_key", "partner_id")
    of_period = f"{scope.label} rebate statement"
    return Suite(
        name="rebate_statements",
        kind="mart",
        guards=STATEMENTS,
        checks=(
            columns_check(
                "rebate_statements_columns_present",
                STATEMENTS,
                (
                    Column("statement_key", "text"),
                    Column("partner_id", "text"),
                    Column("period", "text"),
                    Column("currency", "text"),
                    Column("net_sales", "decimal", 2),
                    Column("total_amount", "decimal", 2),
                    Column("line_count", "integer"),
                ),
                guards="the publication",
                remedy=_MODEL_CHANGED,
            ),
            _present(STATEMENTS, scope.label, "rebate_statements_present_in_period"),
            Check(
                name="rebate_statements_statement_key_not_null",
                batch=batch,
                severity=Severity.BLOCK,
                description=f"Every {of_period} has a statement_key.",
                remedy=_REBUILD,
                expectation=ExpectColumnValuesToNotBeNull,
                arguments={"column": "statement_key"},
            ),
            Check(
                name="rebate_statements_statement_key_unique",
                batch=batch,
                severity=Severity.BLOCK,
                description=f"No two {of_period}s share a statement_key.",
                remedy=_REBUILD,
                expectation=ExpectColumnValuesToBeUnique,
                arguments={"column": "statement_key"},
            ),
            Check(
                name="rebate_statements_currency_known",
                batch=batch,
                severity=Severity.BLOCK,
                description=(
                    f"Every {of_period} is in the settlement currency {scope.currency}."
                ),
                remedy=(
                    "Order lines of another currency reached the marts: reload "
                    f"them converted to {scope.currency}, then rerun."
                ),
                expectation=ExpectColumnValuesToBeInSet,
                arguments={"column": "currency", "value_set": [scope.currency]},
            ),
            _covers_partners(
                "rebate_statements_cover_active_partners",
                STATEMENTS,
                scope.label,
                scope.quarter,
                "rebate statement",
                "statement",
            ),
            _rate_within_ceiling(scope, batch),
            _sales_jump(scope, batch),
        ),
    )


def _rate_within_ceiling(scope: Scope, batch: Batch) -> Check:
    ceiling = scope.config.rebate_rate_ceiling
    return sql_check(
        "rebate_statements_rate_within_ceiling",
        batch,
        Severity.WARN,
        f"No {scope.label} rebate statement pays more than {ceiling:%} of its "
        "net sales (gate.yml's rebate_rate_ceiling).",
        "Compare the statement with its program's tiers: a wrong tier or rate "
        "in config/programs must be fixed; a legitimate high rebate is "
        "published with the override and a reason.",
        f"""
select
    statement.statement_key,
    statement.net_sales,
    statement.total_amount
from {{batch}} as statement
cross join (
    select {sql_decimal(ceiling, 9, 6)} as rate_ceiling
) as gate_parameter
where
    statement.total_amount > 0
    and statement.total_amount
        > statement.net_sales * gate_parameter.rate_ceiling
order by statement.statement_key
""",
    )


def _sales_jump(scope: Scope, batch: Batch) -> Check:
    jump = scope.config.sales_jump
    previous = scope.period.previous().label
    return sql_check(
        "rebate_statements_sales_plausible",
        batch,
        Severity.WARN,
        f"No partner's {scope.label} net sales exceed {jump.factor} times its "
        f"{previous} net sales by {jump.min_increase} or more (gate.yml's "
        "sales_jump).",
        "Check the partner's order lines of the period for entries in the "
        "wrong unit, currency or partner; a real jump is published with the "
        "override and a reason.",
        f"""
select
    statement.partner_id,
    previous_statement.net_sales as previous_net_sales,
    statement.net_sales
from {{batch}} as statement
inner join {STATEMENTS} as previous_statement
    on
        previous_statement.partner_id = statement.partner_id
        and previous_statement.period = {sql_text(previous)}
cross join (
    select
        {sql_decimal(jump.factor, 9, 6)} as jump_factor,
        {sql_decimal(jump.min_increase, 18, 2)} as min_increase
) as gate_parameter
where
    previous_statement.net_sales > 0
    and statement.net_sales
        > previous_statement.net_sales * gate_parameter.jump_factor
    and statement.net_sales - previous_statement.net_sales
        >= gate_parameter.min_increase
order by statement.partner_id
""",
    )


def _statement_lines_suite(scope: Scope) -> Suite:
    batch = _period_batch(STATEMENT_LINES, scope.label, "statement_key", "line_no")
    return Suite(
        name="rebate_statement_lines",
        kind="mart",
        guards=STATEMENT_LINES,
        checks=(
            columns_check(
                "rebate_statement_lines_columns_present",
                STATEMENT_LINES,
                (
                    Column("statement_key", "text"),
                    Column("period", "text"),
                    Column("line_no", "integer"),
                    Column("program_id", "text"),
                    Column("basis_amount", "decimal", 2),
                    Column("rate", "decimal", 6),
                    Column("amount", "decimal", 2),
                    Column("line_kind", "text"),
                ),
                guards="the publication",
                remedy=_MODEL_CHANGED,
            ),
            Check(
                name="rebate_statement_lines_key_unique",
                batch=batch,
                severity=Severity.BLOCK,
                description=(
                    f"No two {scope.label} statement lines share a statement_key "
                    "and line_no."
                ),
                remedy=_REBUILD,
                expectation=ExpectCompoundColumnsToBeUnique,
                arguments={"column_list": ["statement_key", "line_no"]},
            ),
            Check(
                name="rebate_statement_lines_amount_not_null",
                batch=batch,
                severity=Severity.BLOCK,
                description=f"Every {scope.label} statement line has an amount.",
                remedy=_REBUILD,
                expectation=ExpectColumnValuesToNotBeNull,
                arguments={"column": "amount"},
            ),
            sql_check(
                "rebate_statement_lines_amount_not_negative",
                batch,
                Severity.BLOCK,
                f"No {scope.label} program line pays a negative amount (a "
                "clawback is carried forward, not paid; only an approved "
                "manual adjustment may be negative).",
                "A tier or rate below zero, or a basis sign error: fix the "
                "program in config/programs, then rerun.",
                """
select
    statement_line.statement_key,
    statement_line.line_no,
    statement_line.line_kind,
    statement_line.amount
from {batch} as statement_line
cross join (select 1 as one) as gate_parameter
where
    statement_line.amount < 0
    and statement_line.line_kind <> 'adjustment'
order by statement_line.statement_key, statement_line.line_no
""",
            ),
        ),
    )
