"""nightly end to end on a small demo network: scorecards, then ops warnings."""

from __future__ import annotations

import csv
import email
import email.policy
import json
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import pytest

from channelops.demo import FEEDBACK_FILE, generate_demo
from channelops.settings import load_settings
from channelops.warehouse import Warehouse
from flows.nightly import nightly
from tests.flows.test_artifacts import artifacts_of

AS_OF = date(2026, 8, 15)
# A dealer's complaint opened on Friday evening and answered on Wednesday
# 16:00: 25 working hours (Mon 9, Tue 9, Wed 7) against the 24 allowed.
LATE_COMPLAINT = ("FK20260814901", "2026-08-14 18:30:00", "2026-08-19 16:00:00")


def read_messages(folder: Path) -> list[EmailMessage]:
    messages = []
    for path in sorted(folder.glob("*.eml")):
        parsed = email.message_from_bytes(
            path.read_bytes(), policy=email.policy.default
        )
        assert isinstance(parsed, EmailMessage)
        messages.append(parsed)
    return messages


def body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def expected_warnings(period: str) -> dict[str, list[str]]:
    """Partners at medium risk or above, with their reasons, from the marts."""
    with Warehouse(load_settings()) as warehouse:
        rows = warehouse.query(
            "select risk.partner_id, reason.reason "
            "from marts.fct_churn_risk as risk "
            "join marts.fct_churn_warning_reasons as reason "
            "on reason.partner_id = risk.partner_id "
            "and reason.grain = risk.grain and reason.period = risk.period "
            "where risk.grain = 'quarter' and risk.period = ? "
            "and risk.risk_level in ('medium', 'high') "
            "order by risk.partner_id, reason.reason_order",
            (period,),
        )
    found: dict[str, list[str]] = {}
    for partner_id, reason in rows:
        found.setdefault(partner_id, []).append(reason)
    return found


# What ops read for each reason (the English half), from the mart's values.
REASON_PHRASES = {
    "order_gap": "{observed:.0f} days since the last order, usually {reference:.1f}",
    "run_rate_down": "daily run-rate {observed:+.0%} year on year",
    "collections_slipping": (
        "collection ratio {observed:.0%}, {reference:.0%} the period before"
    ),
    "satisfaction_falling": (
        "satisfaction {observed:.2f}, {reference:.2f} the period before"
    ),
    "sla_breaches": "{observed:.0f} of {reference:.0f} complaint(s) answered late",
    "engagement_dropping": "{observed:.0f} activities, {reference:.0f} the period",
}


def reason_phrases(period: str, partner_id: str) -> list[str]:
    """The partner's reasons as ops should read them, in the mart's order."""
    with Warehouse(load_settings()) as warehouse:
        rows = warehouse.query(
            "select reason, observed_value, reference_value "
            "from marts.fct_churn_warning_reasons "
            "where grain = 'quarter' and period = ? and partner_id = ? "
            "order by reason_order",
            (period, partner_id),
        )
    return [
        REASON_PHRASES[reason].format(observed=observed, reference=reference)
        for reason, observed, reference in rows
    ]


def late_breaches(period_start: str) -> list[str]:
    with Warehouse(load_settings()) as warehouse:
        rows = warehouse.query(
            "select feedback_id from marts.fct_complaint_sla "
            "where is_breached and created_at >= cast(? as timestamp) "
            "order by feedback_id",
            (period_start,),
        )
    return [feedback_id for (feedback_id,) in rows]


def add_late_complaint(inbox: Path) -> str:
    """Append a dealer's late complaint to the feedback export; its partner."""
    with Warehouse(load_settings()) as warehouse:
        ((partner_id, name),) = warehouse.query(
            "select partner_id, partner_name from marts.dim_partners "
            "where partner_type = '经销商' order by partner_id limit 1"
        )
    feedback_id, created, answered = LATE_COMPLAINT
    path = inbox / FEEDBACK_FILE
    with path.open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerow(
            [feedback_id, partner_id, name, "投诉", "到货延迟", created, answered]
            + ["", "", "张伟"]
        )
    return str(partner_id)


@pytest.mark.prefect
def test_nightly_scores_partners_and_mails_ops_each_new_warning_once(
    isolated_settings: Path, mail_server: Path
) -> None:
    inbox = isolated_settings / "inbox"
    written = generate_demo(inbox, partner_count=12, last_quarter="2026Q3")

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
    # The only mail of a nightly run is the ops warning: no partner mail.
    (first,) = read_messages(mail_server)
    assert first["To"] == load_settings().ops_email
    assert "预警 2026Q3" in first["Subject"]
    text = body(first)
    warned = expected_warnings("2026Q3")
    breaches = late_breaches("2026-07-01")
    assert warned and breaches
    assert summary.warnings is not None and summary.warnings.mailed
    assert [w.partner_id for w in summary.warnings.warnings] == list(warned)
    warning_lines = [line for line in text.splitlines() if "风险 / risk" in line]
    assert [line.split()[0] for line in warning_lines] == list(warned)
    for line, reasons in zip(warning_lines, warned.values(), strict=True):
        # One "[新 / new]" marked reason per reason the mart gives.
        assert line.count("[新 / new]") == len(reasons)
    # Each reason reads with the values that drove it, e.g. "2 of 3
    # complaint(s) answered late".
    for line, partner_id in zip(warning_lines, warned, strict=True):
        phrases = reason_phrases("2026Q3", partner_id)
        assert phrases and all(phrase in line for phrase in phrases), line
    for feedback_id in breaches:
        assert feedback_id in text
    [mailed] = json.loads(str(artifacts_of(summary.run_id)["nightly-messages"]))
    assert (mailed["messages"], mailed["to"], mailed["sent"]) == (
        "new warnings 2026Q3",
        load_settings().ops_email,
        1,
    )

    partner_id = add_late_complaint(inbox)
    second_summary = nightly(as_of=AS_OF)

    first_again, second = read_messages(mail_server)
    assert first_again["Message-ID"] == first["Message-ID"]
    text = body(second)
    assert LATE_COMPLAINT[0] in text
    # Nothing mailed the night before comes again.
    for feedback_id in breaches:
        assert feedback_id not in text
    assert second_summary.warnings is not None
    assert [b.feedback_id for b in second_summary.warnings.breaches] == [
        LATE_COMPLAINT[0]
    ]
    assert {w.partner_id for w in second_summary.warnings.warnings} <= {partner_id}
    assert "25.00" in text and "工作小时 / business hours" in text
