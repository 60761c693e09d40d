"""The data-quality gate's checks, declared as data.

Each check names the table it guards, whether a failure blocks publication
(``block``) or only warns (``warn``), the sentence the ops alert shows, and
the Great Expectations expectation that decides it. ``gate_checks`` declares
the set for one quarter; ``expectations.gate`` runs them.

Checks read a *batch*: a whole table, or the rows of one quarter. Checks that
GX cannot express on DuckDB (and accounting identities) are SQL that must
return no rows. That SQL runs unchanged on DuckDB and PostgreSQL: lower-case,
explicit ``decimal(p,s)``, ``date 'YYYY-MM-DD'`` literals, no date
formatting functions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

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
from great_expectations.expectations.core.unexpected_rows_expectation import (
    UnexpectedRowsExpectation,
)
from great_expectations.expectations.expectation import Expectation
from great_expectations.expectations.metadata_types import FailureSeverity

# 10 % of net sales: above this a statement is paid out but flagged for review.
DEFAULT_RATE_CEILING = Decimal("0.10")

# A ceiling is compared as decimal(9,6): at most 3 digits before the point.
_CEILING_PLACES = 6
_CEILING_LIMIT = Decimal(1000)

LINE_TYPES = ("sale", "return", "rebate_credit")

_PERIOD_PATTERN = re.compile(r"(?P<year>[0-9]{4})Q(?P<quarter>[1-4])")
_CHECK_NAME_PATTERN = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
_JOIN_PATTERN = re.compile(r"\bjoin\b", re.IGNORECASE)
_BATCH_ALIAS_PATTERN = re.compile(r"\{batch\}\s+as\s+\w+", re.IGNORECASE)
_MONTHS_PER_QUARTER = 3
_QUARTERS_PER_YEAR = 4


class Severity(StrEnum):
    """What a failed check does to publication."""

    BLOCK = "block"
    WARN = "warn"


_GX_SEVERITY = {
    Severity.BLOCK: FailureSeverity.CRITICAL,
    Severity.WARN: FailureSeverity.WARNING,
}


@dataclass(frozen=True)
class Quarter:
    """A reporting period such as ``2026Q3``, with its dates (end exclusive)."""

    label: str
    first_day: date
    next_first_day: date

    @classmethod
    def parse(cls, period: str) -> Quarter:
        """Read a period label; reject anything but ``<year>Q<1-4>``."""
        match = _PERIOD_PATTERN.fullmatch(period)
        if match is None:
            raise ValueError(
                f"period {period!r} is not a quarter: expected a label such as "
                "'2026Q3' (four-digit year, 'Q', quarter 1-4); pass the period "
                "the marts were built for"
            )
        year, quarter = int(match["year"]), int(match["quarter"])
        first_day = date(year, (quarter - 1) * _MONTHS_PER_QUARTER + 1, 1)
        if quarter == _QUARTERS_PER_YEAR:
            next_first_day = date(year + 1, 1, 1)
        else:
            next_first_day = date(year, quarter * _MONTHS_PER_QUARTER + 1, 1)
        return cls(period, first_day, next_first_day)


@dataclass(frozen=True)
class Batch:
    """The rows a group of checks reads: one table, whole or for one quarter."""

    table: str
    # SQL condition choosing the quarter's rows; None reads the whole table.
    period_condition: str | None = None
    # Columns that identify a failing row in the ops alert.
    key_columns: tuple[str, ...] = ()

    @property
    def query(self) -> str:
        """The SQL that selects the batch."""
        if self.period_condition is None:
            return f"select * from {self.table}"
        return f"select * from {self.table} where {self.period_condition}"


@dataclass(frozen=True)
class Check:
    """One gate check: what it guards, how bad a failure is, how GX decides it."""

    name: str
    batch: Batch
    severity: Severity
    description: str
    expectation: type[Expectation]
    arguments: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if _CHECK_NAME_PATTERN.fullmatch(self.name) is None:
            raise ValueError(
                f"check name {self.name!r} is not snake_case: expected lower-case "
                "words joined by '_'; rename the check"
            )
        if self.is_sql:
            _require_batch_join(self.name, str(self.arguments["unexpected_rows_query"]))

    @property
    def table(self) -> str:
        """The table this check guards."""
        return self.batch.table

    @property
    def is_sql(self) -> bool:
        """Whether the check is SQL that must return no rows."""
        return issubclass(self.expectation, UnexpectedRowsExpectation)

    def build_expectation(self) -> Expectation:
        """A fresh GX expectation carrying this check's name and description."""
        return self.expectation(
            **self.arguments,
            description=self.description,
            severity=_GX_SEVERITY[self.severity],
            meta={"check": self.name, "table": self.table},
        )


def _require_batch_join(name: str, query: str) -> None:
    # GX writes {batch} as "(select ...)" when the query contains JOIN and as
    # "(select ...) AS subselect" otherwise. Every check query joins and
    # names the batch itself, so the alias it uses is always its own.
    has_alias = _BATCH_ALIAS_PATTERN.search(query) is not None
    if not has_alias or _JOIN_PATTERN.search(query) is None:
        raise ValueError(
            f"check {name!r}: expected SQL that reads '{{batch}} as <alias>' and "
            f"joins another relation, received {query!r}; name the batch with an "
            "alias and join (a one-row 'cross join' of parameters will do)"
        )


def _valid_rate_ceiling(rate_ceiling: Decimal) -> Decimal:
    """Return the ceiling if it fits the SQL type it is compared as."""
    fits = (
        rate_ceiling.is_finite()
        and Decimal(0) < rate_ceiling < _CEILING_LIMIT
        and rate_ceiling == round(rate_ceiling, _CEILING_PLACES)
    )
    if not fits:
        raise ValueError(
            f"rate ceiling {rate_ceiling!r} is out of range: expected a positive "
            f"fraction of net sales below {_CEILING_LIMIT} with at most "
            f"{_CEILING_PLACES} decimals, e.g. Decimal('0.10'); fix the parameter"
        )
    return rate_ceiling


def gate_checks(
    period: str, *, rate_ceiling: Decimal = DEFAULT_RATE_CEILING
) -> tuple[Check, ...]:
    """Declare the gate's checks for one quarter."""
    quarter = Quarter.parse(period)
    ceiling = _valid_rate_ceiling(rate_ceiling)
    return (
        *_order_line_checks(quarter),
        *_load_file_checks(),
        *_scorecard_checks(quarter),
        *_rebate_statement_checks(quarter, ceiling),
    )


def _order_line_checks(quarter: Quarter) -> tuple[Check, ...]:
    lines = Batch(
        table="raw.order_lines",
        period_condition=(
            f"order_date >= date '{quarter.first_day.isoformat()}' "
            f"and order_date < date '{quarter.next_first_day.isoformat()}'"
        ),
        key_columns=("_file_name", "_row_number", "order_line_id"),
    )
    lines_of = f"order lines dated in {quarter.label}"
    return (
        Check(
            name="order_lines_present_in_period",
            batch=lines,
            severity=Severity.BLOCK,
            description=f"There is at least one of the {lines_of}.",
            expectation=ExpectTableRowCountToBeBetween,
            arguments={"min_value": 1},
        ),
        Check(
            name="order_lines_order_line_id_unique",
            batch=lines,
            severity=Severity.BLOCK,
            description=f"No two {lines_of} share an order_line_id.",
            expectation=ExpectColumnValuesToBeUnique,
            arguments={"column": "order_line_id"},
        ),
        Check(
            name="order_lines_order_line_id_not_null",
            batch=lines,
            severity=Severity.BLOCK,
            description=f"Every one of the {lines_of} has an order_line_id.",
            expectation=ExpectColumnValuesToNotBeNull,
            arguments={"column": "order_line_id"},
        ),
        Check(
            name="order_lines_partner_id_not_null",
            batch=lines,
            severity=Severity.BLOCK,
            description=f"Every one of the {lines_of} has a partner_id.",
            expectation=ExpectColumnValuesToNotBeNull,
            arguments={"column": "partner_id"},
        ),
        Check(
            name="order_lines_partner_known",
            batch=lines,
            severity=Severity.BLOCK,
            description=(
                f"Every partner_id on the {lines_of} is a partner in raw.partners."
            ),
            expectation=UnexpectedRowsExpectation,
            arguments={"unexpected_rows_query": _UNKNOWN_PARTNER_SQL},
        ),
        Check(
            name="order_lines_net_amount_not_null",
            batch=lines,
            severity=Severity.BLOCK,
            description=f"Every one of the {lines_of} has a net_amount.",
            expectation=ExpectColumnValuesToNotBeNull,
            arguments={"column": "net_amount"},
        ),
        Check(
            name="order_lines_net_amount_not_negative",
            batch=lines,
            severity=Severity.BLOCK,
            description=(
                f"No net_amount on the {lines_of} is negative (returns and "
                "credits carry their line_type, not a sign)."
            ),
            expectation=ExpectColumnValuesToBeBetween,
            arguments={"column": "net_amount", "min_value": 0},
        ),
        Check(
            name="order_lines_line_type_known",
            batch=lines,
            severity=Severity.BLOCK,
            description=(
                f"Every line_type on the {lines_of} is one of {', '.join(LINE_TYPES)}."
            ),
            expectation=ExpectColumnValuesToBeInSet,
            arguments={"column": "line_type", "value_set": list(LINE_TYPES)},
        ),
    )


def _load_file_checks() -> tuple[Check, ...]:
    return (
        Check(
            name="load_files_latest_batch_reconciles",
            batch=Batch(table="ops.load_files"),
            severity=Severity.BLOCK,
            description=(
                "Every file of the latest load batch accounts for each row it "
                "read: rows_read = rows_loaded + rows_quarantined."
            ),
            expectation=UnexpectedRowsExpectation,
            arguments={"unexpected_rows_query": _UNRECONCILED_FILE_SQL},
        ),
    )


def _scorecard_checks(quarter: Quarter) -> tuple[Check, ...]:
    scorecard = Batch(
        table="marts.fct_partner_scorecard",
        period_condition=f"period = '{quarter.label}'",
        key_columns=("partner_id", "period"),
    )
    return (
        Check(
            name="partner_scorecard_present_in_period",
            batch=scorecard,
            severity=Severity.BLOCK,
            description=f"The partner scorecard has rows for {quarter.label}.",
            expectation=ExpectTableRowCountToBeBetween,
            arguments={"min_value": 1},
        ),
        Check(
            name="partner_scorecard_partner_period_unique",
            batch=scorecard,
            severity=Severity.BLOCK,
            description=(
                f"The {quarter.label} scorecard has one row per partner "
                "(partner_id, period is unique)."
            ),
            expectation=ExpectCompoundColumnsToBeUnique,
            arguments={"column_list": ["partner_id", "period"]},
        ),
    )


def _rebate_statement_checks(quarter: Quarter, ceiling: Decimal) -> tuple[Check, ...]:
    statements = Batch(
        table="marts.fct_rebate_statements",
        period_condition=f"period = '{quarter.label}'",
        key_columns=("statement_key", "partner_id"),
    )
    of_period = f"{quarter.label} rebate statement"
    return (
        Check(
            name="rebate_statements_statement_key_unique",
            batch=statements,
            severity=Severity.BLOCK,
            description=f"No two {of_period}s share a statement_key.",
            expectation=ExpectColumnValuesToBeUnique,
            arguments={"column": "statement_key"},
        ),
        Check(
            name="rebate_statements_statement_key_not_null",
            batch=statements,
            severity=Severity.BLOCK,
            description=f"Every {of_period} has a statement_key.",
            expectation=ExpectColumnValuesToNotBeNull,
            arguments={"column": "statement_key"},
        ),
        Check(
            name="rebate_statements_total_matches_lines",
            batch=statements,
            severity=Severity.BLOCK,
            description=(
                f"Every {of_period}'s total_amount equals the sum of its lines' "
                "amount, to the cent."
            ),
            expectation=UnexpectedRowsExpectation,
            arguments={"unexpected_rows_query": _TOTAL_MISMATCH_SQL},
        ),
        Check(
            name="rebate_statements_cover_partners_with_sales",
            batch=statements,
            severity=Severity.BLOCK,
            description=(
                f"Every partner whose {quarter.label} scorecard shows net sales "
                "above zero has a rebate statement."
            ),
            expectation=UnexpectedRowsExpectation,
            arguments={"unexpected_rows_query": _missing_statement_sql(quarter)},
        ),
        Check(
            name="rebate_statements_rate_within_ceiling",
            batch=statements,
            severity=Severity.WARN,
            description=(
                f"No {of_period} pays a rebate above {ceiling:%} of its net "
                "sales; a higher rate is published but should be reviewed."
            ),
            expectation=UnexpectedRowsExpectation,
            arguments={"unexpected_rows_query": _rate_above_ceiling_sql(ceiling)},
        ),
    )


# SQL checks: each returns the rows that break the rule, in a stable order so
# the alert's sample rows do not change between runs.

_UNKNOWN_PARTNER_SQL = """
select
    order_line._file_name,
    order_line._row_number,
    order_line.order_line_id,
    order_line.partner_id
from {batch} as order_line
left join raw.partners as partner
    on partner.partner_id = order_line.partner_id
where
    order_line.partner_id is not null
    and partner.partner_id is null
order by
    order_line._file_name,
    order_line._row_number,
    order_line.order_line_id
"""

_UNRECONCILED_FILE_SQL = """
select
    load_file.batch_id,
    load_file.file_name,
    load_file.rows_read,
    load_file.rows_loaded,
    load_file.rows_quarantined
from {batch} as load_file
inner join (
    select distinct batch_id
    from ops.load_files
    where loaded_at = (select max(loaded_at) from ops.load_files)
) as latest_batch
    on latest_batch.batch_id = load_file.batch_id
where
    load_file.rows_read is null
    or load_file.rows_loaded is null
    or load_file.rows_quarantined is null
    or load_file.rows_read
        <> load_file.rows_loaded + load_file.rows_quarantined
order by
    load_file.batch_id,
    load_file.file_name
"""

_TOTAL_MISMATCH_SQL = """
select
    statement.statement_key,
    statement.total_amount,
    coalesce(line_total.amount, cast(0 as decimal(18, 2))) as lines_amount
from {batch} as statement
left join (
    select
        statement_key,
        sum(amount) as amount
    from marts.fct_rebate_statement_lines
    group by statement_key
) as line_total
    on line_total.statement_key = statement.statement_key
where
    statement.total_amount is null
    or statement.total_amount
        <> coalesce(line_total.amount, cast(0 as decimal(18, 2)))
order by statement.statement_key
"""


def _missing_statement_sql(quarter: Quarter) -> str:
    return f"""
select
    scorecard.partner_id,
    scorecard.period,
    scorecard.net_sales
from marts.fct_partner_scorecard as scorecard
left join {{batch}} as statement
    on statement.partner_id = scorecard.partner_id
where
    scorecard.period = '{quarter.label}'
    and scorecard.net_sales > 0
    and statement.partner_id is null
order by scorecard.partner_id
"""


def _rate_above_ceiling_sql(ceiling: Decimal) -> str:
    return f"""
select
    statement.statement_key,
    statement.net_sales,
    statement.total_amount
from {{batch}} as statement
cross join (
    select cast('{ceiling:f}' as decimal(9, 6)) as rate_ceiling
) as gate_parameter
where
    statement.total_amount > 0
    and statement.total_amount
        > statement.net_sales * gate_parameter.rate_ceiling
order by statement.statement_key
"""
