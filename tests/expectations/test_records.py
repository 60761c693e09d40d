"""Gate results and overrides in the warehouse, on DuckDB and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from channelops.settings import Settings
from channelops.warehouse import Warehouse
from expectations.checks import Severity
from expectations.records import override_reason, record_override, record_results
from expectations.report import CheckResult, GateReport


def results(run_id: str) -> GateReport:
    checks = (
        CheckResult(
            "keys",
            "order_lines",
            "raw.order_lines",
            Severity.BLOCK,
            True,
            "0 failing rows",
            "Keys hold.",
            "Fix keys.",
        ),
        CheckResult(
            "jump",
            "rebate_statements",
            "marts.fct_rebate_statements",
            Severity.WARN,
            False,
            "1 failing row",
            "No jump.",
            "Check the jump.",
            ("partner_id='P1', net_sales=900.00", "partner_id='P2', net_sales=1.00"),
        ),
    )
    return GateReport("2026Q3", run_id, checks)


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_database: str
) -> Iterator[Warehouse]:
    if request.param == "duckdb":
        settings = Settings(home=tmp_path)
    else:
        settings = Settings(env="prod", pg_database=postgres_database)
    with Warehouse(settings) as opened:
        for table in ("ops.gate_results", "ops.gate_overrides"):
            opened.execute(f"drop table if exists {table}")
        yield opened


def test_results_should_be_kept_per_run_and_replaced_on_retry(
    warehouse: Warehouse,
) -> None:
    record_results(warehouse, results("run-1"))
    record_results(warehouse, results("run-2"))
    record_results(warehouse, results("run-2"))

    rows = warehouse.query(
        "select run_id, check_name, severity, status, sample_rows "
        "from ops.gate_results order by run_id, check_name"
    )
    assert [row[:4] for row in rows] == [
        ("run-1", "jump", "warn", "fail"),
        ("run-1", "keys", "block", "pass"),
        ("run-2", "jump", "warn", "fail"),
        ("run-2", "keys", "block", "pass"),
    ]
    assert rows[0][4] == (
        "partner_id='P1', net_sales=900.00\npartner_id='P2', net_sales=1.00"
    )
    assert rows[1][4] is None


def test_override_should_record_reason_and_warnings_by_run(
    warehouse: Warehouse,
) -> None:
    record_override(
        warehouse, results("run-3"), flow="quarterly_settlement", reason="年终特批"
    )
    record_override(
        warehouse, results("run-3"), flow="quarterly_settlement", reason="年终特批"
    )

    assert warehouse.query(
        "select run_id, flow, period, reason, warnings from ops.gate_overrides"
    ) == [("run-3", "quarterly_settlement", "2026Q3", "年终特批", "jump")]


@pytest.mark.parametrize("text", ["", "   ", "x" * 501])
def test_blank_or_endless_reason_should_be_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="publish_despite_warnings: expected a reason"):
        override_reason(text)


def test_reason_should_be_kept_on_one_line() -> None:
    assert override_reason("  approved by\n finance ") == "approved by finance"
    assert override_reason(None) is None
