"""The gate's check declarations: names, severities, periods and SQL rules."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from great_expectations.expectations.core.unexpected_rows_expectation import (
    UnexpectedRowsExpectation,
)
from great_expectations.expectations.metadata_types import FailureSeverity

from expectations.suites import Batch, Check, Quarter, Severity, gate_checks

LINES = Batch(table="raw.order_lines")


def test_check_names_should_be_unique_snake_case() -> None:
    names = [check.name for check in gate_checks("2026Q3")]

    assert len(names) == len(set(names)) == 16
    assert all(re.fullmatch(r"[a-z0-9_]+", name) for name in names)


def test_only_the_rate_ceiling_should_warn() -> None:
    warnings = [
        check.name for check in gate_checks("2026Q3") if check.severity is Severity.WARN
    ]

    assert warnings == ["rebate_statements_rate_within_ceiling"]


def test_descriptions_should_be_sentences_naming_the_period() -> None:
    for check in gate_checks("2026Q3"):
        assert check.description.endswith("."), check.name
        if check.batch.period_condition is not None:
            assert "2026Q3" in check.description, check.name


@pytest.mark.parametrize(
    ("period", "first_day", "next_first_day"),
    [
        ("2026Q1", date(2026, 1, 1), date(2026, 4, 1)),
        ("2026Q3", date(2026, 7, 1), date(2026, 10, 1)),
        ("2026Q4", date(2026, 10, 1), date(2027, 1, 1)),
    ],
)
def test_quarter_should_span_three_months(
    period: str, first_day: date, next_first_day: date
) -> None:
    assert Quarter.parse(period) == Quarter(period, first_day, next_first_day)


@pytest.mark.parametrize("period", ["2026Q5", "2026q3", "26Q3", "2026Q3 ", "2026-Q3"])
def test_quarter_should_reject_other_labels(period: str) -> None:
    with pytest.raises(ValueError, match="expected a label such as '2026Q3'"):
        Quarter.parse(period)


@pytest.mark.parametrize(
    "ceiling", [Decimal("0"), Decimal("-0.1"), Decimal("NaN"), Decimal("0.1234567")]
)
def test_rate_ceiling_should_be_a_positive_fraction(ceiling: Decimal) -> None:
    with pytest.raises(ValueError, match="rate ceiling"):
        gate_checks("2026Q3", rate_ceiling=ceiling)


def test_rate_ceiling_should_reach_the_sql() -> None:
    check = gate_checks("2026Q3", rate_ceiling=Decimal("0.125"))[-1]

    assert "cast('0.125' as decimal(9, 6))" in check.arguments["unexpected_rows_query"]


def test_check_should_reject_a_name_that_is_not_snake_case() -> None:
    with pytest.raises(ValueError, match="is not snake_case"):
        Check("Order-Lines", LINES, Severity.BLOCK, "x.", UnexpectedRowsExpectation)


@pytest.mark.parametrize(
    "query",
    [
        "select * from {batch} where partner_id is null",
        "select * from raw.order_lines as line join raw.partners as p on true",
        "select * from {batch} join raw.partners as p on true",
    ],
)
def test_sql_check_should_join_and_alias_the_batch(query: str) -> None:
    with pytest.raises(ValueError, match="alias and join"):
        Check(
            "lines_sql",
            LINES,
            Severity.BLOCK,
            "x.",
            UnexpectedRowsExpectation,
            {"unexpected_rows_query": query},
        )


def test_built_expectation_should_carry_the_check() -> None:
    check = gate_checks("2026Q3")[-1]
    expectation = check.build_expectation()

    assert expectation.description == check.description
    assert expectation.meta == {"check": check.name, "table": check.table}
    assert expectation.severity is FailureSeverity.WARNING
    assert check.build_expectation() is not expectation
