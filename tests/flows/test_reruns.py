"""Reruns an operator starts: one partner's period, a resend, a backfill.

They start from one settled AdventureWorks 2019Q4, built once per module and
copied for each test, with a real SMTP server catching what each test sends.
"""

from __future__ import annotations

import csv
import email
import email.policy
import os
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from channelops.errors import ChannelopsError
from channelops.periods import Quarter
from channelops.publish import publish_statements
from channelops.settings import load_settings
from channelops.warehouse import Warehouse
from flows.backfill import BackfillStopped, backfill
from flows.quarterly_settlement import quarterly_settlement
from flows.resend_statement import resend_statement
from tests.conftest import TEST_DATA, adventureworks_drop
from tests.flows.test_artifacts import artifacts_of

PERIOD = "2019Q4"
QUARTER_MONTHS = ("2019-10", "2019-11", "2019-12")
SALES = "FactResellerSales.csv"

pytestmark = pytest.mark.prefect


def _adventureworks_variables(home: Path) -> dict[str, str]:
    return {
        "CHANNELOPS_HOME": str(home),
        "CHANNELOPS_DROP_DIR": str(home / "inbox"),
        "CHANNELOPS_CONFIG_DIR": str(TEST_DATA / "adventureworks" / "config"),
        "CHANNELOPS_CURRENCY": "USD",
    }


@pytest.fixture(scope="module")
def settled_home(prefect_api: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A channelops home where 2019Q4 is settled and mailed; copy it, never write."""
    home = tmp_path_factory.mktemp("settled") / "home"
    adventureworks_drop(home / "inbox")
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("CHANNELOPS_")]:
            patch.delenv(name)
        for name, value in _adventureworks_variables(home).items():
            patch.setenv(name, value)
        quarterly_settlement(period=PERIOD)
    return home


@pytest.fixture
def home(
    settled_home: Path,
    isolated_settings: Path,
    monkeypatch: pytest.MonkeyPatch,
    mail_server: Path,
) -> Iterator[Path]:
    """This test's own copy of the settled home, mailing to ``mail_server``."""
    shutil.copytree(settled_home, isolated_settings)
    for name, value in _adventureworks_variables(isolated_settings).items():
        monkeypatch.setenv(name, value)
    yield isolated_settings


def recipients(folder: Path) -> list[str]:
    """The To addresses of every message the test's SMTP server received."""
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(
            path.read_bytes(), policy=email.policy.default
        )
        found.extend(address.addr_spec for address in message["To"].addresses)
    return found


def reseller_address(reseller: str) -> str:
    return f"reseller{int(reseller):04d}@resellers.example.com"


def ledger(*, period: str = PERIOD) -> dict[str, list[tuple[int, str]]]:
    """Published versions per partner: (version, total) in version order."""
    with Warehouse(load_settings()) as warehouse:
        rows = warehouse.query(
            "select partner_id, version, cast(total_amount as varchar) "
            "from ops.statement_versions where period = ? "
            "order by partner_id, version",
            (period,),
        )
    versions: dict[str, list[tuple[int, str]]] = {}
    for partner, version, total in rows:
        versions.setdefault(partner, []).append((version, total))
    return versions


def resellers_with_several_sales(
    drop: Path, count: int, months: tuple[str, ...] = QUARTER_MONTHS
) -> tuple[str, ...]:
    """The resellers with the most order lines in ``months``, most first."""
    lines: dict[str, int] = {}
    with (drop / SALES).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["OrderDate"][:7] in months:
                lines[row["ResellerKey"]] = lines.get(row["ResellerKey"], 0) + 1
    ranked = sorted(lines, key=lambda key: (-lines[key], int(key)))
    return tuple(ranked[:count])


def drop_one_sale_of_each(drop: Path, resellers: tuple[str, ...]) -> None:
    """Finance's correction: one 2019Q4 sale of each reseller removed."""
    path = drop / SALES
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    pending = set(resellers)
    kept = []
    for row in rows:
        key = row["ResellerKey"]
        in_quarter = row["OrderDate"][:7] in QUARTER_MONTHS
        if key in pending and in_quarter and Decimal(row["SalesAmount"]) > 0:
            pending.discard(key)
            continue
        kept.append(row)
    assert not pending, f"no 2019Q4 sale to remove for {pending}"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(kept)


def test_a_rerun_for_one_partner_publishes_and_mails_that_partner_only(
    home: Path, mail_server: Path
) -> None:
    fixed, untouched = resellers_with_several_sales(home / "inbox", 2)
    before = ledger()
    drop_one_sale_of_each(home / "inbox", (fixed, untouched))

    summary = quarterly_settlement(period=PERIOD, partners=frozenset({fixed}))

    after = ledger()
    assert after[fixed][:-1] == before[fixed] == [(1, before[fixed][0][1])]
    assert after[fixed][-1][0] == 2
    assert after[fixed][-1][1] != before[fixed][0][1]
    assert {p: v for p, v in after.items() if p != fixed} == {
        p: v for p, v in before.items() if p != fixed
    }
    assert recipients(mail_server) == [reseller_address(fixed)]
    assert summary.publish is not None
    assert [s.partner_id for s in summary.publish.statements] == [fixed]


def test_a_rerun_naming_a_partner_without_a_statement_publishes_nothing(
    home: Path,
) -> None:
    before = ledger()
    settings = load_settings()

    with Warehouse(settings) as warehouse, pytest.raises(ChannelopsError) as refused:
        publish_statements(
            settings,
            warehouse,
            Quarter.parse(PERIOD),
            run_id="typo",
            partners=frozenset({sorted(before)[0], "99999"}),
        )

    assert "['99999']" in str(refused.value)
    assert "Nothing was published" in str(refused.value)
    assert ledger() == before


def test_a_resend_goes_out_once_per_request_reference(
    home: Path, mail_server: Path
) -> None:
    partner = sorted(ledger())[0]

    first = resend_statement(
        period=PERIOD, partner_id=partner, version=1, request="OPS-1"
    )
    again = resend_statement(
        period=PERIOD, partner_id=partner, version=1, request="OPS-1"
    )
    another = resend_statement(
        period=PERIOD, partner_id=partner, version=1, request="OPS-2"
    )

    assert first.send is not None and first.send.sent == 1
    assert again.resend is not None and not again.resend.queued
    assert again.send is not None and again.send.sent == 0
    assert another.send is not None and another.send.sent == 1
    assert recipients(mail_server) == [reseller_address(partner)] * 2


def test_a_resend_of_a_version_never_published_alerts_ops_with_stage_and_remedy(
    home: Path, mail_server: Path
) -> None:
    partner = sorted(ledger())[0]

    with pytest.raises(ChannelopsError, match="was never published"):
        resend_statement(period=PERIOD, partner_id=partner, version=7, request="OPS-3")

    [alert] = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in mail_server.glob("*.eml")
    ]
    body = alert.get_body(preferencelist=("plain",))
    assert body is not None
    text = str(body.get_content())
    assert "queue the resend" in str(alert["Subject"])
    assert "Stage: queue the resend" in text
    assert "published versions: v1" in text
    assert "What to do: Fix what the error names" in text


def enter_an_order_twice(drop: Path, month: str) -> None:
    """One order of ``month`` copied under a new order number: the gate warns."""
    path = drop / SALES
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    first = next(row for row in rows if row["OrderDate"][:7] == month)
    copies = [
        {**row, "SalesOrderNumber": "SO99998"}
        for row in rows
        if row["SalesOrderNumber"] == first["SalesOrderNumber"]
    ]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows + copies)


def test_backfill_settles_oldest_first_and_stops_at_a_held_quarter(
    home: Path, mail_server: Path
) -> None:
    months = ("2019-04", "2019-05", "2019-06", "2019-07", "2019-08", "2019-09")
    [partner] = resellers_with_several_sales(home / "inbox", 1, months)
    enter_an_order_twice(home / "inbox", "2019-08")

    state = backfill(
        first_period="2019Q2",
        last_period="2019Q4",
        partners=frozenset({partner}),
        return_state=True,
    )

    stopped = state.result(raise_on_failure=False)
    assert isinstance(stopped, BackfillStopped)
    assert stopped.settled == ["2019Q2"]
    assert "stopped at 2019Q3" in str(stopped)
    assert "2019Q4..2019Q4 were not started" in str(stopped)
    quarters = str(artifacts_of(state.state_details.flow_run_id)["backfill-summary"])
    assert "| 2019Q2 | settled | 1 | 1 |" in quarters
    assert "| 2019Q3 | held by the gate's warnings | 1 | 1 |" in quarters
    assert "| 2019Q4 | not started |" in quarters
    with Warehouse(load_settings()) as warehouse:
        published = warehouse.query(
            "select period, partner_id from ops.statement_versions "
            "where period in ('2019Q2', '2019Q3') order by published_at"
        )
    assert published == [("2019Q2", partner)]
    partner_mail = [a for a in recipients(mail_server) if "resellers" in a]
    assert partner_mail == [reseller_address(partner)]
