"""The verdict, the run artifact and the ops alert, from hand-made results."""

from __future__ import annotations

from pathlib import Path

import pytest

from expectations.checks import Severity
from expectations.report import CheckResult, GateReport, Verdict


def result(
    name: str, severity: Severity, success: bool | None, *rows: str
) -> CheckResult:
    return CheckResult(
        name=name,
        suite="order_lines",
        table="raw.order_lines",
        severity=severity,
        success=success,
        observed="not evaluated" if success is None else f"{len(rows)} failing rows",
        description=f"{name} holds.",
        remedy=f"Fix {name}.",
        sample_rows=rows,
        error="boom" if success is None else None,
    )


def report(*checks: CheckResult, docs: Path | None = None) -> GateReport:
    return GateReport("2026Q3", "run-7", checks, data_docs_index=docs)


PASSING = result("keys", Severity.BLOCK, True)
WARNING = result("jump", Severity.WARN, False, "partner_id='P1'")


@pytest.mark.parametrize(
    ("checks", "reason", "verdict"),
    [
        ((PASSING,), None, Verdict.PUBLISH),
        ((PASSING, WARNING), None, Verdict.HOLD),
        ((PASSING, WARNING), "approved by finance", Verdict.PUBLISH),
        ((PASSING, result("jump", Severity.WARN, None)), None, Verdict.HOLD),
        ((result("keys", Severity.BLOCK, False, "x"),), None, Verdict.BLOCK),
        ((result("keys", Severity.BLOCK, False, "x"),), "please", Verdict.BLOCK),
        ((result("keys", Severity.BLOCK, None),), "please", Verdict.BLOCK),
        ((WARNING,), "no blocking check ran", Verdict.BLOCK),
        ((), None, Verdict.BLOCK),
    ],
)
def test_verdict_should_block_hold_or_publish(
    checks: tuple[CheckResult, ...], reason: str | None, verdict: Verdict
) -> None:
    assert report(*checks).verdict(reason) is verdict


def test_summary_should_count_suites_and_show_failing_rows(tmp_path: Path) -> None:
    docs = tmp_path / "docs" / "index.html"
    blocked = result("unknown_partner", Severity.BLOCK, False, "row=4")
    summary = report(PASSING, blocked, WARNING, docs=docs).summary_markdown()

    assert summary.startswith("## Data-quality gate 2026Q3: BLOCKED\n")
    assert (
        "Run `run-7`. 3 checks in 1 suites: 1 passed, 1 blocking publication, "
        "1 warning(s)."
    ) in summary
    assert "| `order_lines` | 3 | 1 | 1 | 1 |" in summary
    assert "### Blocking failures" in summary and "### Warnings" in summary
    assert "  - Row: `row=4`" in summary
    assert "  - What to do: Fix unknown_partner." in summary
    assert summary.endswith(f"Data Docs: [{docs}]({docs.as_uri()})\n")


def test_alert_should_name_each_failure_its_rows_and_what_to_do() -> None:
    lines = report(PASSING, WARNING).alert_lines()

    assert lines[0] == (
        "Data-quality gate for 2026Q3, run run-7: PASSED with warnings."
    )
    assert lines[2:] == [
        "Warnings: jump (order_lines, raw.order_lines) fail: 1 failing rows. "
        "jump holds.",
        "  row: partner_id='P1'",
        "  what to do: Fix jump.",
    ]


def test_check_that_could_not_run_should_show_its_error() -> None:
    lines = report(PASSING, result("keys2", Severity.BLOCK, None)).alert_lines()

    assert (
        "Blocking (cannot be overridden): keys2 (order_lines, raw.order_lines) "
        "error: boom. keys2 holds."
    ) in lines
