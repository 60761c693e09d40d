"""An unknown partner on payments or feedback, through the real pull stage.

Corrupted copies of the demo's finance and service exports: one row names a
partner code the partner master data does not have. The pull quarantines
the row (so it never reaches ``raw``), and the references check still fails
with the severity docs/gate.md declares: payments block, feedback warns.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from channelops.demo import (
    BOM_ENCODING,
    FEEDBACK_FILE,
    PAYMENTS_FILE,
    PLAIN_ENCODING,
    generate_demo,
)
from channelops.periods import Quarter
from channelops.pull import pull
from channelops.settings import load_settings
from channelops.warehouse import Warehouse
from expectations.checks import Scope, Severity
from expectations.gate import run_gate
from expectations.report import GateReport, Verdict
from expectations.suites import gate_suites

SCOPE = Scope(Quarter.parse("2026Q3"), "CNY", date(2026, 12, 4))
SUITES = {suite.name: suite for suite in gate_suites(SCOPE)}
PARTNER_COLUMN = "经销商编码"
UNKNOWN = "X404"


@pytest.fixture
def inbox(isolated_settings: Path) -> Path:
    folder = isolated_settings / "inbox"
    generate_demo(
        folder, partner_count=12, first_quarter="2026Q2", last_quarter="2026Q3"
    )
    return folder


def name_unknown_partner(path: Path, encoding: str) -> None:
    """The first data row (file row 2) names a partner nobody knows."""
    with path.open(encoding=encoding, newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[0][PARTNER_COLUMN] = UNKNOWN
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def pull_and_gate(dataset: str) -> GateReport:
    settings = load_settings()
    with Warehouse(settings) as warehouse:
        pull(settings, warehouse, batch_id="b1")
    return run_gate(
        settings.warehouse_url, SCOPE, run_id="b1", suites=(SUITES[dataset],)
    )


@pytest.mark.parametrize(
    ("file_name", "encoding", "dataset", "severity", "verdict"),
    [
        (PAYMENTS_FILE, PLAIN_ENCODING, "payments", Severity.BLOCK, Verdict.BLOCK),
        (FEEDBACK_FILE, BOM_ENCODING, "feedback", Severity.WARN, Verdict.HOLD),
    ],
)
def test_unknown_partner_should_be_quarantined_and_fail_as_declared(
    inbox: Path,
    file_name: str,
    encoding: str,
    dataset: str,
    severity: Severity,
    verdict: Verdict,
) -> None:
    name_unknown_partner(inbox / file_name, encoding)

    report = pull_and_gate(dataset)
    failing = {c.name: c for c in report.checks if c.success is not True}

    assert set(failing) == {
        f"{dataset}_partner_known",
        f"{dataset}_nothing_quarantined",
    }
    known = failing[f"{dataset}_partner_known"]
    assert known.severity is severity
    assert known.sample_rows == (
        f"file_name='{file_name}', row_number=2, partner_id='{UNKNOWN}', "
        "row_status='quarantined'",
    )
    assert report.verdict() is verdict
    with Warehouse(load_settings()) as warehouse:
        loaded = warehouse.query(
            f"select count(*) from raw.{dataset} where partner_id = ?", (UNKNOWN,)
        )
    assert loaded == [(0,)]


def test_demo_exports_should_pass_the_reference_checks(inbox: Path) -> None:
    report = pull_and_gate("payments")

    assert [c.name for c in report.checks if c.success is not True] == []
