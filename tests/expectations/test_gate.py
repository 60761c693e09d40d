"""The gate on a tiny DuckDB warehouse: each check passes, fails, or fails closed."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from expectations.gate import CheckResult, GateReport, run_gate
from expectations.suites import Severity, gate_checks
from tests.expectations.gate_warehouse import (
    BREAKAGES,
    PERIOD,
    duckdb_url,
    run_duckdb_sql,
)

CHECKS = {check.name: check for check in gate_checks(PERIOD)}
ROW_COUNT_CHECKS = {
    "order_lines_present_in_period",
    "partner_scorecard_present_in_period",
}


def result_of(report: GateReport, name: str) -> CheckResult:
    return next(check for check in report.checks if check.name == name)


def not_passed(report: GateReport) -> set[str]:
    return {check.name for check in report.checks if check.success is not True}


@pytest.fixture(scope="module")
def good_report(good_duckdb_file: Path) -> GateReport:
    return run_gate(duckdb_url(good_duckdb_file), period=PERIOD)


def broken_report(path: Path, name: str) -> GateReport:
    run_duckdb_sql(path, BREAKAGES[name])
    return run_gate(duckdb_url(path), period=PERIOD)


def test_breakages_cover_every_check() -> None:
    assert set(BREAKAGES) == set(CHECKS)


def test_gate_on_good_data_should_pass(good_report: GateReport) -> None:
    assert good_report.passed is True
    assert good_report.blocking_failures == ()
    assert good_report.warnings == ()
    assert [check.name for check in good_report.checks] == list(CHECKS)


@pytest.mark.parametrize("name", list(CHECKS))
def test_check_on_good_data_should_pass(good_report: GateReport, name: str) -> None:
    result = result_of(good_report, name)

    assert (result.success, result.error, result.sample_rows) == (True, None, ())
    assert result.table == CHECKS[name].table
    assert result.description == CHECKS[name].description


@pytest.mark.parametrize("name", list(BREAKAGES))
def test_check_on_broken_data_should_fail_alone(
    duckdb_warehouse: Path, name: str
) -> None:
    report = broken_report(duckdb_warehouse, name)
    result = result_of(report, name)

    assert not_passed(report) == {name}
    assert (result.success, result.error) == (False, None)
    assert report.passed is (CHECKS[name].severity is Severity.WARN)
    if name not in ROW_COUNT_CHECKS:
        assert result.sample_rows


def test_unknown_partner_should_show_the_file_row(duckdb_warehouse: Path) -> None:
    report = broken_report(duckdb_warehouse, "order_lines_partner_known")
    result = result_of(report, "order_lines_partner_known")

    assert result.observed == "1 failing row"
    assert result.sample_rows == (
        "_file_name='q3.csv', _row_number=4, order_line_id='L3', partner_id='P404'",
    )


def test_null_partner_should_show_the_file_row(duckdb_warehouse: Path) -> None:
    report = broken_report(duckdb_warehouse, "order_lines_partner_id_not_null")
    result = result_of(report, "order_lines_partner_id_not_null")

    assert result.observed == "1 of 4 rows fail"
    assert result.sample_rows == (
        "_file_name='q3.csv', _row_number=4, order_line_id='L3', partner_id=null",
    )


def test_total_off_by_a_cent_should_show_both_amounts(duckdb_warehouse: Path) -> None:
    report = broken_report(duckdb_warehouse, "rebate_statements_total_matches_lines")
    result = result_of(report, "rebate_statements_total_matches_lines")

    assert result.sample_rows == (
        "statement_key='P001-2026Q3', total_amount=36.01, lines_amount=36.00",
    )


def test_unreconciled_file_should_name_batch_and_file(duckdb_warehouse: Path) -> None:
    report = broken_report(duckdb_warehouse, "load_files_latest_batch_reconciles")
    result = result_of(report, "load_files_latest_batch_reconciles")

    # b1's bad file is older than the latest batch and is not reported.
    assert result.sample_rows == (
        "batch_id='b2', file_name='q3.csv', rows_read=7, rows_loaded=6, "
        "rows_quarantined=0",
    )


def test_high_rebate_rate_should_warn_and_still_pass(duckdb_warehouse: Path) -> None:
    report = broken_report(duckdb_warehouse, "rebate_statements_rate_within_ceiling")

    assert report.passed is True
    assert [check.name for check in report.warnings] == [
        "rebate_statements_rate_within_ceiling"
    ]
    assert report.summary_markdown().startswith(
        "## Data-quality gate 2026Q3: PASSED with warnings"
    )


def test_rate_exactly_at_ceiling_should_pass(duckdb_warehouse: Path) -> None:
    run_duckdb_sql(
        duckdb_warehouse,
        (
            "update marts.fct_rebate_statement_lines set amount = 50.00 "
            "where statement_key = 'P002-2026Q3'",
            "update marts.fct_rebate_statements set total_amount = 50.00 "
            "where statement_key = 'P002-2026Q3'",
        ),
    )
    report = run_gate(duckdb_url(duckdb_warehouse), period=PERIOD)

    assert not_passed(report) == set()


def test_lower_rate_ceiling_should_warn_on_good_data(good_duckdb_file: Path) -> None:
    report = run_gate(
        duckdb_url(good_duckdb_file), period=PERIOD, rate_ceiling=Decimal("0.03")
    )
    result = result_of(report, "rebate_statements_rate_within_ceiling")

    assert report.passed is True
    assert result.sample_rows == (
        "statement_key='P001-2026Q3', net_sales=900.00, total_amount=36.00",
    )
    assert "above 3% of its net sales" in result.description


def test_quarter_without_data_should_block(good_duckdb_file: Path) -> None:
    report = run_gate(duckdb_url(good_duckdb_file), period="2027Q1")

    assert report.passed is False
    assert not_passed(report) == ROW_COUNT_CHECKS
    assert result_of(report, "order_lines_present_in_period").observed == "0 rows"


def test_missing_lines_table_should_fail_closed(duckdb_warehouse: Path) -> None:
    run_duckdb_sql(duckdb_warehouse, ("drop table marts.fct_rebate_statement_lines",))
    report = run_gate(duckdb_url(duckdb_warehouse), period=PERIOD)
    result = result_of(report, "rebate_statements_total_matches_lines")

    assert report.passed is False
    assert not_passed(report) == {"rebate_statements_total_matches_lines"}
    assert result.success is None
    assert result.error is not None and "fct_rebate_statement_lines" in result.error
    assert result in report.blocking_failures


def test_missing_batch_table_should_fail_closed(duckdb_warehouse: Path) -> None:
    run_duckdb_sql(duckdb_warehouse, ("drop table ops.load_files",))
    report = run_gate(duckdb_url(duckdb_warehouse), period=PERIOD)
    result = result_of(report, "load_files_latest_batch_reconciles")

    assert report.passed is False
    assert not_passed(report) == {"load_files_latest_batch_reconciles"}
    assert (result.success, result.observed) == (None, "not evaluated")
    assert result.error is not None and "load_files" in result.error


def test_missing_warehouse_file_should_fail_closed_without_creating_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "never_built.duckdb"
    report = run_gate(duckdb_url(path), period=PERIOD)

    assert report.passed is False
    assert all(check.success is None for check in report.checks)
    assert str(path) in (report.checks[0].error or "")
    assert not path.exists()


def test_unreachable_postgres_should_fail_closed() -> None:
    url = "postgresql+psycopg2://postgres@127.0.0.1:1/nowhere"
    report = run_gate(url, period=PERIOD)

    assert report.passed is False
    assert all(check.success is None and check.error for check in report.checks)


def test_gate_should_release_the_duckdb_file(duckdb_warehouse: Path) -> None:
    run_gate(duckdb_url(duckdb_warehouse), period=PERIOD)

    connection = duckdb.connect(str(duckdb_warehouse))
    try:
        connection.execute("insert into ops.quarantine (batch_id) values ('b4')")
    finally:
        connection.close()


def test_gate_should_write_data_docs(good_duckdb_file: Path, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    report = run_gate(duckdb_url(good_duckdb_file), period=PERIOD, data_docs_dir=docs)

    assert report.data_docs_index == docs / "index.html"
    assert report.data_docs_index.is_file()
    assert list((docs / "validations").rglob("*.html"))
    assert report.summary_markdown().endswith(f"Data Docs: `{docs / 'index.html'}`\n")


def test_unwritable_data_docs_should_not_change_the_verdict(
    good_duckdb_file: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    not_a_directory = tmp_path / "docs"
    not_a_directory.write_text("a file where the site should go\n")
    with caplog.at_level(logging.WARNING, logger="expectations.gate"):
        report = run_gate(
            duckdb_url(good_duckdb_file), period=PERIOD, data_docs_dir=not_a_directory
        )

    assert (report.passed, report.data_docs_index) == (True, None)
    assert "could not build Data Docs" in caplog.text


def test_gate_should_log_its_verdict(
    duckdb_warehouse: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="expectations.gate"):
        broken_report(duckdb_warehouse, "order_lines_partner_known")

    messages = [r.getMessage() for r in caplog.records if r.name == "expectations.gate"]
    assert messages[0].startswith(
        "gate 2026Q3 on duckdb: blocked, 16 checks, 1 blocking failures, 0 warnings"
    )
    assert messages[1] == (
        "gate check order_lines_partner_known (raw.order_lines, block) fail: "
        "1 failing row"
    )


def test_summary_should_explain_a_blocked_gate(duckdb_warehouse: Path) -> None:
    report = broken_report(duckdb_warehouse, "rebate_statements_total_matches_lines")
    summary = report.summary_markdown()

    assert summary.startswith("## Data-quality gate 2026Q3: BLOCKED\n")
    assert "16 checks: 15 passed, 1 blocking publication, 0 warnings." in summary
    assert (
        "| fail | `rebate_statements_total_matches_lines` | "
        "marts.fct_rebate_statements | block | 1 failing row |"
    ) in summary
    assert "### Blocking failures" in summary
    assert CHECKS["rebate_statements_total_matches_lines"].description in summary
    assert (
        "  - Row: `statement_key='P001-2026Q3', total_amount=36.01, lines_amount=36.00`"
    ) in summary


def test_period_that_is_not_a_quarter_should_be_rejected(
    good_duckdb_file: Path,
) -> None:
    with pytest.raises(ValueError, match="period '2026-Q3' is not a quarter"):
        run_gate(duckdb_url(good_duckdb_file), period="2026-Q3")


def test_negative_rate_ceiling_should_be_rejected(good_duckdb_file: Path) -> None:
    with pytest.raises(ValueError, match="rate ceiling Decimal"):
        run_gate(
            duckdb_url(good_duckdb_file), period=PERIOD, rate_ceiling=Decimal("-0.1")
        )


def test_other_databases_should_be_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="received a 'sqlite' URL"):
        run_gate(f"sqlite:///{tmp_path / 'x.db'}", period=PERIOD)
