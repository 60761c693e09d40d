"""The gate on a tiny DuckDB warehouse: each check passes, fails, or fails closed."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from great_expectations.expectations.core.expect_table_row_count_to_be_between import (
    ExpectTableRowCountToBeBetween,
)

from expectations.checks import Batch, Check, Scope, Severity, Suite
from expectations.config import EmptyInputs, GateConfig
from expectations.gate import run_gate
from expectations.report import CheckResult, GateReport, Verdict
from expectations.suites import all_checks, gate_suites
from tests.expectations.gate_warehouse import (
    BREAKAGES,
    FILES,
    MONTH,
    PERIOD,
    REFERENCING,
    duckdb_url,
    month_scope,
    quarantined_unknown_partner,
    run_duckdb_sql,
    scope,
)

SUITES = gate_suites(scope())
MONTH_SUITES = gate_suites(month_scope())
QUARTER_CHECKS = {check.name: check for check in all_checks(SUITES)}
MONTH_CHECKS = {check.name: check for check in all_checks(MONTH_SUITES)}
# Every check of either kind of run.
CHECKS = {**QUARTER_CHECKS, **MONTH_CHECKS}
SUITE_OF = {
    check.name: suite for suite in (*SUITES, *MONTH_SUITES) for check in suite.checks
}
# Breakages that cannot help failing a second check of the same suite.
ALSO_FAILS = {
    "order_lines_present_in_period": {"order_lines_not_collapsed"},
    "partner_scorecard_present_in_period": {"partner_scorecard_covers_active_partners"},
    "rebate_statements_present_in_period": {"rebate_statements_cover_active_partners"},
    "partner_scorecard_monthly_present_in_month": {
        "partner_scorecard_monthly_covers_active_partners"
    },
    # A statement off by a cent puts the whole period off by that cent.
    "statement_totals_match_lines": {"period_total_matches_rebate_settlements"},
}
ROW_COUNT_CHECKS = {
    name
    for name, check in CHECKS.items()
    if check.expectation is ExpectTableRowCountToBeBetween
}


def _suite(at: Scope, name: str) -> Suite:
    return next(suite for suite in gate_suites(at) if suite.name == name)


def result_of(report: GateReport, name: str) -> CheckResult:
    return next(check for check in report.checks if check.name == name)


def not_passed(report: GateReport) -> set[str]:
    return {check.name for check in report.checks if check.success is not True}


def gate(path: Path, *suites: Suite, at: Scope | None = None) -> GateReport:
    return run_gate(
        duckdb_url(path),
        at or scope(),
        run_id="test-run",
        suites=suites or None,
    )


@pytest.fixture(scope="module")
def good_report(good_duckdb_file: Path) -> GateReport:
    return gate(good_duckdb_file)


@pytest.fixture(scope="module")
def good_month_report(good_duckdb_file: Path) -> GateReport:
    return gate(good_duckdb_file, at=month_scope())


def broken_report(path: Path, name: str) -> GateReport:
    run_duckdb_sql(path, BREAKAGES[name])
    return gate(path, SUITE_OF[name])


def test_breakages_cover_every_check() -> None:
    assert set(BREAKAGES) == set(CHECKS)


def test_every_suite_guards_one_input_or_mart() -> None:
    kinds = {suite.name: suite.kind for suite in SUITES}

    assert [name for name, kind in kinds.items() if kind == "input"] == [
        "partners",
        "partner_contacts",
        "order_lines",
        "payments",
        "feedback",
        "activities",
        "targets",
    ]
    assert [name for name, kind in kinds.items() if kind == "mart"] == [
        "partner_scorecard",
        "rebate_statements",
        "rebate_statement_lines",
        "churn_risk",
    ]
    assert kinds["settlement"] == "reconciliation"


def test_monthly_run_should_gate_the_inputs_and_the_monthly_scorecards() -> None:
    inputs = [suite.name for suite in SUITES if suite.kind == "input"]

    assert [suite.name for suite in MONTH_SUITES] == [
        *inputs,
        "partner_scorecard_monthly",
    ]


def test_gate_on_good_data_should_pass(good_report: GateReport) -> None:
    assert good_report.passed is True
    assert good_report.verdict() is Verdict.PUBLISH
    assert (good_report.blocking_failures, good_report.warnings) == ((), ())
    assert [check.name for check in good_report.checks] == list(QUARTER_CHECKS)


def test_monthly_gate_on_good_data_should_pass(good_month_report: GateReport) -> None:
    assert good_month_report.period == MONTH
    assert good_month_report.verdict() is Verdict.PUBLISH
    assert [check.name for check in good_month_report.checks] == list(MONTH_CHECKS)


@pytest.mark.parametrize("name", list(CHECKS))
def test_check_on_good_data_should_pass(
    good_report: GateReport, good_month_report: GateReport, name: str
) -> None:
    report = good_report if name in QUARTER_CHECKS else good_month_report
    result = result_of(report, name)

    assert (result.success, result.error, result.sample_rows) == (True, None, ())
    assert (result.table, result.suite) == (CHECKS[name].table, SUITE_OF[name].name)
    assert result.remedy == CHECKS[name].remedy


@pytest.mark.parametrize("name", list(BREAKAGES))
def test_check_on_broken_data_should_fail(duckdb_warehouse: Path, name: str) -> None:
    report = broken_report(duckdb_warehouse, name)
    result = result_of(report, name)

    assert (result.success, result.error) == (False, None)
    assert not_passed(report) == {name, *ALSO_FAILS.get(name, set())}
    assert report.passed is (CHECKS[name].severity is Severity.WARN)
    if name not in ROW_COUNT_CHECKS:
        assert result.sample_rows


def test_unknown_partner_should_show_the_file_row(duckdb_warehouse: Path) -> None:
    report = broken_report(duckdb_warehouse, "order_lines_partner_known")
    result = result_of(report, "order_lines_partner_known")

    assert result.observed == "1 failing row"
    assert result.sample_rows == (
        "file_name='q3.csv', row_number=4, partner_id='P404', row_status='loaded'",
    )


@pytest.mark.parametrize("dataset", REFERENCING)
def test_row_quarantined_for_an_unknown_partner_should_fail_the_reference_check(
    duckdb_warehouse: Path, dataset: str
) -> None:
    run_duckdb_sql(duckdb_warehouse, quarantined_unknown_partner(dataset))
    report = gate(duckdb_warehouse, SUITE_OF[f"{dataset}_partner_known"])
    result = result_of(report, f"{dataset}_partner_known")

    assert not_passed(report) == {
        f"{dataset}_partner_known",
        f"{dataset}_nothing_quarantined",
    }
    assert result.sample_rows == (
        f"file_name='{FILES[dataset]}', row_number=7, partner_id='P404', "
        "row_status='quarantined'",
    )


def test_unknown_partner_should_block_only_where_it_decides_money() -> None:
    severities = {
        dataset: CHECKS[f"{dataset}_partner_known"].severity for dataset in REFERENCING
    }

    assert severities == {
        "partner_contacts": Severity.WARN,
        "order_lines": Severity.BLOCK,
        "payments": Severity.BLOCK,
        "feedback": Severity.WARN,
        "activities": Severity.WARN,
        "targets": Severity.WARN,
    }


def test_quarantined_row_should_show_file_row_field_and_reason(
    duckdb_warehouse: Path,
) -> None:
    report = broken_report(duckdb_warehouse, "order_lines_nothing_quarantined")
    result = result_of(report, "order_lines_nothing_quarantined")

    assert result.severity is Severity.BLOCK
    assert result.sample_rows == (
        "file_name='q3.csv', row_number=9, field='amount', value='1,2,3', "
        "reason='is not a number'",
    )


def test_money_stored_as_float_should_name_column_and_types(
    duckdb_warehouse: Path,
) -> None:
    report = broken_report(duckdb_warehouse, "rebate_statements_columns_present")
    result = result_of(report, "rebate_statements_columns_present")

    assert result.sample_rows == (
        "column_name='total_amount', expected_type='decimal(*,2)', "
        "actual_type='DOUBLE'",
    )


def test_total_off_by_a_cent_should_show_both_amounts(duckdb_warehouse: Path) -> None:
    report = broken_report(duckdb_warehouse, "statement_totals_match_lines")
    result = result_of(report, "statement_totals_match_lines")

    assert result.sample_rows == (
        "statement_key='P001-2026Q3', total_amount=36.01, lines_amount=36.00",
    )


def test_only_each_files_latest_load_should_be_reconciled(
    duckdb_warehouse: Path,
) -> None:
    report = broken_report(duckdb_warehouse, "order_lines_files_reconcile")
    result = result_of(report, "order_lines_files_reconcile")

    # b0's older, unreconciled load of q3.csv is not reported.
    assert result.sample_rows == (
        "source='acme', file_name='q2.csv', rows_read=2, rows_loaded=3, "
        "rows_quarantined=0, rows_in_raw=2, rows_in_quarantine=0",
        "source='acme', file_name='q3.csv', rows_read=4, rows_loaded=5, "
        "rows_quarantined=0, rows_in_raw=4, rows_in_quarantine=0",
    )


def test_collapsed_period_should_show_both_counts(duckdb_warehouse: Path) -> None:
    report = broken_report(duckdb_warehouse, "order_lines_not_collapsed")
    result = result_of(report, "order_lines_not_collapsed")

    assert result.sample_rows == ("period_rows=4, previous_period_rows=9",)


def test_empty_optional_input_should_fail_as_gate_yml_says(
    duckdb_warehouse: Path,
) -> None:
    run_duckdb_sql(duckdb_warehouse, BREAKAGES["payments_present"])
    config = GateConfig(empty_inputs=EmptyInputs(payments="block", targets="ignore"))
    strict = Scope(scope().period, "CNY", scope().today, config)
    report = gate(duckdb_warehouse, _suite(strict, "payments"), at=strict)

    assert [c.name for c in report.blocking_failures] == ["payments_present"]
    assert "targets_present" not in {
        check.name for check in all_checks(gate_suites(strict))
    }


def test_period_with_exactly_the_ratio_of_rows_should_pass(
    good_duckdb_file: Path,
) -> None:
    strict = Scope(scope().period, "CNY", scope().today, GateConfig(collapse_ratio=1))
    report = gate(good_duckdb_file, _suite(strict, "feedback"), at=strict)

    # One complaint this quarter, one in the previous: not below 100 %.
    assert not_passed(report) == set()


def test_open_quarter_should_compare_the_same_days_of_the_previous_one(
    good_duckdb_file: Path,
) -> None:
    early = Scope(scope().period, "CNY", scope().today, as_of=scope().period.first_day)
    report = gate(good_duckdb_file, _suite(scope(), "order_lines"), at=early)

    # One day into 2026Q3: L11 of 07-01 against nothing on 04-01.
    assert str(early.window) == "2026-07-01 to 2026-07-01"
    assert str(early.previous_window) == "2026-04-01 to 2026-04-01"
    assert not_passed(report) == set()


def test_high_rebate_rate_should_warn_and_hold(duckdb_warehouse: Path) -> None:
    report = broken_report(duckdb_warehouse, "rebate_statements_rate_within_ceiling")

    assert report.passed is True
    assert [check.name for check in report.warnings] == [
        "rebate_statements_rate_within_ceiling"
    ]
    assert report.verdict() is Verdict.HOLD
    assert report.verdict("partner's year-end deal, approved by finance") is (
        Verdict.PUBLISH
    )


def test_rate_exactly_at_ceiling_should_pass(duckdb_warehouse: Path) -> None:
    run_duckdb_sql(
        duckdb_warehouse,
        (
            "update marts.fct_rebate_statements set net_sales = 100.00 "
            "where statement_key = 'P002-2026Q3'",
        ),
    )
    report = gate(duckdb_warehouse, _suite(scope(), "rebate_statements"))

    assert not_passed(report) == set()


def test_lower_rate_ceiling_from_config_should_warn_on_good_data(
    good_duckdb_file: Path,
) -> None:
    config = GateConfig(rebate_rate_ceiling=Decimal("0.03"))
    low = Scope(scope().period, "CNY", scope().today, config)
    report = gate(good_duckdb_file, _suite(low, "rebate_statements"), at=low)
    result = result_of(report, "rebate_statements_rate_within_ceiling")

    assert result.sample_rows == (
        "statement_key='P001-2026Q3', net_sales=900.00, total_amount=36.00",
    )
    assert "more than 3% of its net sales" in result.description


def test_quarter_without_data_should_block(good_duckdb_file: Path) -> None:
    report = gate(good_duckdb_file, at=scope("2027Q1"))

    assert report.passed is False
    assert not_passed(report) == {
        "order_lines_present_in_period",
        "partner_scorecard_present_in_period",
        "rebate_statements_present_in_period",
        # The ledger has nothing for 2027Q1, so it has nothing to check.
    }
    assert result_of(report, "order_lines_present_in_period").observed == "0 rows"


def test_ledger_that_does_not_exist_yet_should_pass_saying_so(
    duckdb_warehouse: Path,
) -> None:
    run_duckdb_sql(duckdb_warehouse, ("drop table ops.statement_versions",))
    report = gate(duckdb_warehouse, SUITES[-1])
    result = result_of(report, "statement_ledger_versions_contiguous")

    assert not_passed(report) == set()
    assert result.observed == (
        "nothing to check: ops.statement_versions does not exist yet"
    )


def test_statements_that_drop_a_settled_line_should_show_all_three_totals(
    duckdb_warehouse: Path,
) -> None:
    report = broken_report(duckdb_warehouse, "period_total_matches_rebate_settlements")
    result = result_of(report, "period_total_matches_rebate_settlements")

    # The pending adjustment A3 (100.00) is not counted.
    assert result.sample_rows == (
        "statements_total=37.00, settlements_total=46.00, adjustments_total=0.00",
    )


def test_version_without_movements_should_show_its_line_count(
    duckdb_warehouse: Path,
) -> None:
    report = broken_report(
        duckdb_warehouse, "statement_ledger_versions_match_movements"
    )
    result = result_of(report, "statement_ledger_versions_match_movements")

    assert result.sample_rows == (
        "statement_key='P002-2026Q3', version=1, line_count=1, total_amount=10.00, "
        "movement_count=0, movement_amount=0.00",
    )


def test_movement_off_by_a_cent_should_fail(duckdb_warehouse: Path) -> None:
    run_duckdb_sql(
        duckdb_warehouse,
        (
            "update ops.settlement_ledger set amount = 6.01 "
            "where statement_key = 'P001-2026Q3' and version = 2",
        ),
    )
    report = gate(duckdb_warehouse, SUITES[-1])

    assert not_passed(report) == {"statement_ledger_versions_match_movements"}


def test_version_without_lines_should_need_no_movements(
    duckdb_warehouse: Path,
) -> None:
    run_duckdb_sql(
        duckdb_warehouse,
        (
            "insert into ops.statement_versions values ('P002-2026Q3', 'P002', "
            "'2026Q3', 2, 'c4', 'CNY', 0.00, 0, 'v2.json', 'i3', '0.1.0', "
            "'run-3', timestamp '2026-10-05 08:00:00')",
            "insert into ops.settlement_versions values ('P002-2026Q3', 'P002', "
            "'2026Q3', 2, 's4', 'growth v1', 'i3', '0.1.0', 'corrects v1', "
            "'run-3', timestamp '2026-10-05 08:00:00', 'd3', 'r1')",
        ),
    )
    report = gate(duckdb_warehouse, SUITES[-1])

    assert not_passed(report) == set()


# P002's v1 as channelops 0.1.0 published it: no settlement record, no
# movements.
_WITHOUT_LEDGER_RECORDS = (
    "delete from ops.settlement_ledger where statement_key = 'P002-2026Q3'",
    "delete from ops.settlement_versions where statement_key = 'P002-2026Q3'",
)


def test_version_published_before_movements_were_recorded_should_pass(
    duckdb_warehouse: Path,
) -> None:
    run_duckdb_sql(
        duckdb_warehouse,
        (
            *_WITHOUT_LEDGER_RECORDS,
            "update ops.statement_versions "
            "set published_at = timestamp '2026-09-01 08:00:00' "
            "where statement_key = 'P002-2026Q3'",
        ),
    )
    report = gate(duckdb_warehouse, SUITES[-1])

    assert not_passed(report) == set()


def test_version_published_since_then_without_ledger_records_should_fail(
    duckdb_warehouse: Path,
) -> None:
    run_duckdb_sql(duckdb_warehouse, _WITHOUT_LEDGER_RECORDS)
    report = gate(duckdb_warehouse, SUITES[-1])

    assert not_passed(report) == {"statement_ledger_versions_match_movements"}


def test_emptied_ledger_should_fail_every_version(duckdb_warehouse: Path) -> None:
    run_duckdb_sql(
        duckdb_warehouse,
        ("delete from ops.settlement_ledger", "delete from ops.settlement_versions"),
    )
    report = gate(duckdb_warehouse, SUITES[-1])
    result = result_of(report, "statement_ledger_versions_match_movements")

    assert result.observed == "3 failing rows"


def test_missing_lines_table_should_fail_closed(duckdb_warehouse: Path) -> None:
    run_duckdb_sql(duckdb_warehouse, ("drop table marts.fct_rebate_statement_lines",))
    report = gate(duckdb_warehouse, SUITES[-1])
    result = result_of(report, "statement_totals_match_lines")

    assert report.passed is False
    assert report.verdict("any reason") is Verdict.BLOCK
    assert result.success is None
    assert result.error is not None and "fct_rebate_statement_lines" in result.error
    assert result in report.blocking_failures


def test_monthly_gate_without_the_monthly_mart_should_fail_closed(
    duckdb_warehouse: Path,
) -> None:
    run_duckdb_sql(
        duckdb_warehouse, ("drop table marts.fct_partner_scorecard_monthly",)
    )
    report = gate(duckdb_warehouse, MONTH_SUITES[-1], at=month_scope())

    assert report.verdict("any reason") is Verdict.BLOCK
    assert all(check.success is not True for check in report.checks)
    assert result_of(report, "partner_scorecard_monthly_tier_configured").error


def test_missing_load_table_should_fail_closed(duckdb_warehouse: Path) -> None:
    run_duckdb_sql(duckdb_warehouse, ("drop table ops.load_files",))
    report = gate(duckdb_warehouse, SUITES[0])
    result = result_of(report, "partners_files_reconcile")

    assert report.passed is False
    assert not_passed(report) == {"partners_files_reconcile"}
    assert (result.success, result.observed) == (None, "not evaluated")
    assert result.error is not None and "load_files" in result.error


class ExpectTableRowCountWithoutVerdict(ExpectTableRowCountToBeBetween):
    """A custom expectation that computes its metric but gives no verdict.

    GX's own expectations always decide; a custom one (GX's extension point)
    may return its result without ``success``, and GX then reports the
    expectation with no result (``_build_evr`` accepts such a dict). That
    is the real path to "no result", with no mock or patch of GX.
    """

    def _validate(
        self,
        metrics: dict[str, Any],
        runtime_configuration: dict[str, Any] | None = None,
        execution_engine: object | None = None,
    ) -> dict[str, Any]:
        return {"result": {"observed_value": metrics["table.row_count"]}}


@pytest.mark.parametrize("severity", list(Severity))
def test_expectation_without_a_result_should_fail_closed(
    good_duckdb_file: Path, severity: Severity
) -> None:
    declared = Check(
        name="partners_counted",
        batch=Batch(table="raw.partners"),
        severity=severity,
        description="raw.partners is counted.",
        remedy="Report it.",
        expectation=ExpectTableRowCountWithoutVerdict,
        arguments={"min_value": 1},
    )
    partners = _suite(scope(), "partners")
    with_it = Suite(
        partners.name, partners.kind, partners.guards, (*partners.checks, declared)
    )
    report = gate(good_duckdb_file, with_it)
    result = result_of(report, "partners_counted")

    assert (result.success, result.observed) == (None, "not evaluated")
    assert result.error == "Great Expectations returned no result"
    # The same batch's real row count still passed beside it.
    assert result_of(report, "partners_present").success is True
    assert not_passed(report) == {"partners_counted"}
    assert report.verdict("any reason") is (
        Verdict.BLOCK if severity is Severity.BLOCK else Verdict.PUBLISH
    )
    assert report.verdict() is (
        Verdict.BLOCK if severity is Severity.BLOCK else Verdict.HOLD
    )


def test_failed_warning_check_that_raised_should_still_hold(
    duckdb_warehouse: Path,
) -> None:
    run_duckdb_sql(
        duckdb_warehouse,
        ("alter table marts.fct_rebate_statements drop column net_sales",),
    )
    report = gate(duckdb_warehouse, _suite(scope(), "rebate_statements"))
    result = result_of(report, "rebate_statements_rate_within_ceiling")

    assert result.success is None
    assert result in report.warnings
    assert report.verdict() is Verdict.BLOCK  # the columns check blocks too


def test_missing_warehouse_file_should_fail_closed_without_creating_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "never_built.duckdb"
    report = gate(path)

    assert report.passed is False
    assert all(check.success is None for check in report.checks)
    assert str(path) in (report.checks[0].error or "")
    assert not path.exists()


def test_unreachable_postgres_should_fail_closed() -> None:
    url = "postgresql+psycopg2://postgres@127.0.0.1:1/nowhere"
    report = run_gate(url, scope(), run_id="test-run", suites=SUITES[:1])

    assert report.passed is False
    assert all(check.success is None and check.error for check in report.checks)


def test_no_suite_at_all_should_not_pass(good_duckdb_file: Path) -> None:
    report = run_gate(
        duckdb_url(good_duckdb_file), scope(), run_id="test-run", suites=()
    )

    assert report.passed is False
    assert report.verdict() is Verdict.BLOCK


def test_gate_should_release_the_duckdb_file(duckdb_warehouse: Path) -> None:
    gate(duckdb_warehouse, SUITES[-1])

    connection = duckdb.connect(str(duckdb_warehouse))
    try:
        connection.execute("delete from ops.quarantine")
    finally:
        connection.close()


def test_gate_should_write_data_docs_named_by_run(
    good_duckdb_file: Path, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    report = run_gate(
        duckdb_url(good_duckdb_file),
        scope(),
        run_id="run-42",
        data_docs_dir=docs,
        suites=SUITES[-1:],
    )

    assert report.data_docs_index == docs.resolve() / "index.html"
    assert report.data_docs_index.is_file()
    pages = list((docs / "validations").rglob("*.html"))
    assert pages and all("run-42" in str(page) for page in pages)
    assert report.data_docs_index.as_uri() in report.summary_markdown()


def test_unwritable_data_docs_should_not_change_the_verdict(
    good_duckdb_file: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    not_a_directory = tmp_path / "docs"
    not_a_directory.write_text("a file where the site should go\n")
    with caplog.at_level(logging.WARNING, logger="expectations.gate"):
        report = run_gate(
            duckdb_url(good_duckdb_file),
            scope(),
            run_id="test-run",
            data_docs_dir=not_a_directory,
            suites=SUITES[-1:],
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
        f"gate {PERIOD} on duckdb: BLOCKED, 15 checks in 1 suites, "
        "1 blocking failures, 0 warnings"
    )
    assert messages[1] == (
        "gate check order_lines_partner_known (raw.order_lines, block) fail: "
        "1 failing row"
    )


def test_other_databases_should_be_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="received a 'sqlite' URL"):
        run_gate(f"sqlite:///{tmp_path / 'x.db'}", scope(), run_id="test-run")
