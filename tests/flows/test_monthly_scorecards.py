"""monthly_scorecards end to end on a small demo network, against a real SMTP sink."""

from __future__ import annotations

import json
from collections import Counter
from email.utils import getaddresses
from pathlib import Path

import pytest

from channelops.demo import generate_demo
from channelops.settings import load_settings
from channelops.warehouse import Warehouse
from flows.monthly_scorecards import monthly_scorecards
from tests.flows.test_artifacts import artifacts_of
from tests.flows.test_nightly import body, read_messages

MONTH = "2026-09"


def contacts() -> dict[str, set[str]]:
    """Each scored partner's contact addresses, from the marts."""
    with Warehouse(load_settings()) as warehouse:
        rows = warehouse.query(
            "select s.partner_id, c.email "
            "from marts.fct_partner_scorecard_monthly as s "
            "join marts.dim_partner_contacts as c on c.partner_id = s.partner_id "
            "where s.period = ?",
            (MONTH,),
        )
        names = dict(
            warehouse.query("select partner_id, partner_name from marts.dim_partners")
        )
    found: dict[str, set[str]] = {}
    for partner_id, address in rows:
        found.setdefault(names[partner_id], set()).add(address)
    return found


@pytest.mark.prefect
def test_monthly_scorecards_mail_each_partner_once_and_a_rerun_sends_nothing(
    isolated_settings: Path, mail_server: Path
) -> None:
    generate_demo(isolated_settings / "inbox", partner_count=12, last_quarter="2026Q3")

    summary = monthly_scorecards(
        period=MONTH, publish_despite_warnings="演示数据已核对"
    )

    assert summary.period == MONTH
    assert summary.gate is not None and not summary.gate.blocking_failures
    mailed = summary.scorecard_mail
    assert mailed is not None
    expected = contacts()
    assert expected
    messages = read_messages(mail_server)
    assert mailed.send.sent == len(messages) == mailed.queued.queued == len(expected)
    assert mailed.send.failed == 0
    # One message per partner, to that partner's own contacts, naming it.
    seen: Counter[str] = Counter()
    for message in messages:
        to = {address for _, address in getaddresses([str(message["To"])])}
        [partner] = [name for name, addresses in expected.items() if to == addresses]
        text = body(message)
        assert partner in text
        assert not [other for other in expected if other != partner and other in text]
        seen[partner] += 1
    assert set(seen) == set(expected) and set(seen.values()) == {1}
    # The run's artifacts: rows per source, the gate and its Data Docs, the
    # e-mails sent and the lineage of the models it built.
    artifacts = artifacts_of(summary.run_id)
    assert set(artifacts) == {
        "monthly-scorecards-summary",
        "monthly-scorecards-rows-by-source",
        "gate-2026q3",
        "data-docs",
        "monthly-scorecards-messages",
        "dbt-docs",
    }
    [row] = json.loads(str(artifacts["monthly-scorecards-messages"]))
    assert (row["messages"], row["sent"], row["failed"]) == (
        f"scorecard e-mails {MONTH}",
        len(messages),
        0,
    )
    assert "dbt_docs/index.html" in str(artifacts["dbt-docs"])

    rerun = monthly_scorecards(period=MONTH, publish_despite_warnings="演示数据已核对")

    assert rerun.scorecard_mail is not None
    assert rerun.scorecard_mail.queued.queued == 0
    assert rerun.scorecard_mail.send.sent == 0
    assert len(read_messages(mail_server)) == len(messages)
