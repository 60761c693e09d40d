"""The gate on PostgreSQL: the same checks and SQL as on DuckDB, no shim."""

from __future__ import annotations

import psycopg2
import pytest

from expectations.gate import GateReport, run_gate
from expectations.suites import Severity, gate_checks
from tests.expectations.gate_warehouse import (
    BREAKAGES,
    PERIOD,
    POSTGRES_URL,
    run_postgres_sql,
)

pytestmark = pytest.mark.postgres

CHECKS = {check.name: check for check in gate_checks(PERIOD)}


def gate(database: str) -> GateReport:
    return run_gate(POSTGRES_URL.format(database=database), period=PERIOD)


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
        CHECKS, True
    )
    observed = {check.name: check.observed for check in report.checks}
    assert observed["order_lines_present_in_period"] == "4 rows"


@pytest.mark.parametrize("name", list(BREAKAGES))
def test_check_on_broken_data_should_fail_alone(
    postgres_warehouse: str, name: str
) -> None:
    run_postgres_sql(postgres_warehouse, BREAKAGES[name])
    report = gate(postgres_warehouse)

    assert {c.name for c in report.checks if c.success is not True} == {name}
    assert report.passed is (CHECKS[name].severity is Severity.WARN)


def test_total_off_by_a_cent_should_show_both_amounts(postgres_warehouse: str) -> None:
    run_postgres_sql(
        postgres_warehouse, BREAKAGES["rebate_statements_total_matches_lines"]
    )
    report = gate(postgres_warehouse)

    assert report.blocking_failures[0].sample_rows == (
        "statement_key='P001-2026Q3', total_amount=36.01, lines_amount=36.00",
    )


def test_missing_table_should_fail_closed(postgres_warehouse: str) -> None:
    run_postgres_sql(
        postgres_warehouse, ("drop table marts.fct_rebate_statement_lines",)
    )
    report = gate(postgres_warehouse)

    failure = report.blocking_failures[0]
    assert report.passed is False
    assert [check.name for check in report.blocking_failures] == [
        "rebate_statements_total_matches_lines"
    ]
    assert failure.success is None
    assert "fct_rebate_statement_lines" in (failure.error or "")


def test_gate_should_close_its_connections(postgres_warehouse: str) -> None:
    gate(postgres_warehouse)

    assert connections_to(postgres_warehouse) == 0
