"""The gate on PostgreSQL: the same suites and SQL as on DuckDB, no shim."""

from __future__ import annotations

import psycopg2
import pytest

from expectations.checks import Scope, Severity, Suite
from expectations.gate import run_gate
from expectations.report import GateReport
from tests.expectations.gate_warehouse import (
    BREAKAGES,
    POSTGRES_URL,
    month_scope,
    quarantined_unknown_partner,
    run_postgres_sql,
    scope,
)
from tests.expectations.test_gate import (
    ALSO_FAILS,
    CHECKS,
    MONTH_CHECKS,
    QUARTER_CHECKS,
    SUITE_OF,
)

pytestmark = pytest.mark.postgres


def gate(database: str, *suites: Suite, at: Scope | None = None) -> GateReport:
    return run_gate(
        POSTGRES_URL.format(database=database),
        at or scope(),
        run_id="test-run",
        suites=suites or None,
    )


def connections_to(database: str) -> int:
    connection = psycopg2.connect(
        host="127.0.0.1", port=5432, user="postgres", dbname="postgres"
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select count(*) from pg_stat_activity where datname = %s", (database,)
            )
            row = cursor.fetchone()
    finally:
        connection.close()
    assert row is not None
    return int(row[0])


def test_gate_on_good_data_should_pass_every_check(postgres_warehouse: str) -> None:
    report = gate(postgres_warehouse)

    assert report.passed is True
    assert {check.name: check.success for check in report.checks} == dict.fromkeys(
        QUARTER_CHECKS, True
    )
    observed = {check.name: check.observed for check in report.checks}
    assert observed["order_lines_present_in_period"] == "4 rows"


def test_monthly_gate_on_good_data_should_pass_every_check(
    postgres_warehouse: str,
) -> None:
    report = gate(postgres_warehouse, at=month_scope())

    assert {check.name: check.success for check in report.checks} == dict.fromkeys(
        MONTH_CHECKS, True
    )


@pytest.mark.parametrize("name", list(BREAKAGES))
def test_check_on_broken_data_should_fail(postgres_warehouse: str, name: str) -> None:
    run_postgres_sql(postgres_warehouse, BREAKAGES[name])
    report = gate(postgres_warehouse, SUITE_OF[name])
    result = next(check for check in report.checks if check.name == name)

    assert (result.success, result.error) == (False, None)
    assert {c.name for c in report.checks if c.success is not True} == {
        name,
        *ALSO_FAILS.get(name, set()),
    }
    assert report.passed is (CHECKS[name].severity is Severity.WARN)


def test_payment_quarantined_for_an_unknown_partner_should_block(
    postgres_warehouse: str,
) -> None:
    run_postgres_sql(postgres_warehouse, quarantined_unknown_partner("payments"))
    report = gate(postgres_warehouse, SUITE_OF["payments_partner_known"])

    assert [c.name for c in report.blocking_failures] == ["payments_partner_known"]
    assert [c.name for c in report.warnings] == ["payments_nothing_quarantined"]


def test_money_stored_as_float_should_name_column_and_types(
    postgres_warehouse: str,
) -> None:
    run_postgres_sql(postgres_warehouse, BREAKAGES["rebate_statements_columns_present"])
    report = gate(postgres_warehouse, SUITE_OF["rebate_statements_columns_present"])

    assert report.blocking_failures[0].sample_rows == (
        "column_name='total_amount', expected_type='decimal(*,2)', "
        "actual_type='double precision'",
    )


def test_missing_table_should_fail_closed(postgres_warehouse: str) -> None:
    run_postgres_sql(
        postgres_warehouse, ("drop table marts.fct_rebate_statement_lines",)
    )
    report = gate(postgres_warehouse, SUITE_OF["statement_totals_match_lines"])

    failure = report.blocking_failures[0]
    assert report.passed is False
    assert failure.name == "statement_totals_match_lines"
    assert failure.success is None
    assert "fct_rebate_statement_lines" in (failure.error or "")


def test_ledger_that_does_not_exist_yet_should_pass(postgres_warehouse: str) -> None:
    run_postgres_sql(postgres_warehouse, ("drop table ops.statement_versions",))
    report = gate(postgres_warehouse, SUITE_OF["statement_ledger_versions_contiguous"])

    assert report.passed is True


def test_gate_should_close_its_connections(postgres_warehouse: str) -> None:
    gate(postgres_warehouse, SUITE_OF["statement_totals_match_lines"])

    assert connections_to(postgres_warehouse) == 0
