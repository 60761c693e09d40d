"""nightly end to end on a small demo network."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from channelops.demo import generate_demo
from flows.nightly import nightly

AS_OF = date(2026, 8, 15)


@pytest.mark.prefect
def test_nightly_scores_every_partner_with_sales_and_sends_no_partner_mail(
    isolated_settings: Path, mail_server: Path
) -> None:
    written = generate_demo(
        isolated_settings / "inbox", partner_count=12, last_quarter="2026Q3"
    )

    summary = nightly(as_of=AS_OF)

    assert summary.period == "2026Q3"
    assert summary.gate is not None and summary.gate.passed
    assert summary.pull is not None
    assert summary.pull.total("rows_read") == sum(written.counts.values())
    assert summary.scorecard_report is not None
    with summary.scorecard_report.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == summary.scored_partners > 0
    assert {r["period"] for r in rows} == {"2026Q3"}
    assert list(mail_server.glob("*.eml")) == []
