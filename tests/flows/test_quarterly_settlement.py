"""quarterly_settlement end to end on AdventureWorks, with a real SMTP server."""

from __future__ import annotations

import csv
import email
import email.policy
import shutil
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from email.message import EmailMessage
from pathlib import Path

import pytest

from channelops.errors import ConfigError, GateBlocked
from channelops.settings import load_settings
from channelops.warehouse import Warehouse
from flows.quarterly_settlement import quarterly_settlement
from notifications.formatting import format_money
from tests.conftest import ADVENTUREWORKS, TEST_DATA

PERIOD = "2019Q4"
QUARTER_MONTHS = ("2019-10", "2019-11", "2019-12")
# The program in tests/data/adventureworks/config/programs, restated here so
# the expected amounts do not come from channelops' own code.
TIERS = (
    (Decimal("0"), Decimal("0.01")),
    (Decimal("100000"), Decimal("0.02")),
    (Decimal("500000"), Decimal("0.03")),
)


def expected_rebates() -> dict[str, Decimal]:
    """Retroactive rebate per reseller for the quarter, computed from the CSV."""
    sales: dict[str, Decimal] = defaultdict(Decimal)
    with (ADVENTUREWORKS / "FactResellerSales.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["OrderDate"][:7] in QUARTER_MONTHS:
                sales[row["ResellerKey"]] += Decimal(row["SalesAmount"])
    rebates = {}
    for reseller, amount in sales.items():
        rate = max(rate for lower, rate in TIERS if amount >= lower)
        rebates[reseller] = (amount * rate).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
    return rebates


def read_messages(folder: Path) -> list[EmailMessage]:
    messages = []
    for path in sorted(folder.glob("*.eml")):
        parsed = email.message_from_bytes(
            path.read_bytes(), policy=email.policy.default
        )
        assert isinstance(parsed, EmailMessage)
        messages.append(parsed)
    return messages


def partner_messages(folder: Path) -> dict[str, EmailMessage]:
    """Statement messages by reseller key, taken from the recipient address."""
    found = {}
    for message in read_messages(folder):
        address = str(message["To"])
        if "@resellers.example.com" in address:
            key = str(int(address.split("reseller")[1][:4]))
            assert key not in found, f"two statements for reseller {key}"
            found[key] = message
    return found


def text_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


@pytest.mark.prefect
def test_settlement_mails_each_partner_its_own_independently_computed_total(
    adventureworks_env: Path, mail_server: Path
) -> None:
    expected = expected_rebates()

    summary = quarterly_settlement(period=PERIOD)

    messages = partner_messages(mail_server)
    assert sorted(messages) == sorted(expected)
    assert summary.send is not None and summary.send.sent == len(expected)
    for reseller, message in messages.items():
        body = text_body(message)
        assert format_money(expected[reseller], "USD") in body, reseller
        assert f"{reseller}-{PERIOD}" in body or f" {reseller}" in body
    assert summary.publish is not None
    assert summary.publish.total_amount == sum(expected.values())


@pytest.mark.prefect
def test_settlement_rerun_with_the_same_inputs_sends_nothing(
    adventureworks_env: Path, mail_server: Path
) -> None:
    first = quarterly_settlement(period=PERIOD)
    delivered = sorted(p.name for p in mail_server.glob("*.eml"))

    second = quarterly_settlement(period=PERIOD)

    assert first.send is not None and first.send.sent > 0
    assert second.publish is not None and second.publish.new_versions == ()
    assert second.send is not None and second.send.sent == 0
    assert sorted(p.name for p in mail_server.glob("*.eml")) == delivered


@pytest.mark.prefect
def test_settlement_with_a_header_only_sales_file_is_blocked_and_mails_no_partner(
    adventureworks_env: Path, mail_server: Path
) -> None:
    sales = adventureworks_env / "FactResellerSales.csv"
    header = sales.read_text(encoding="utf-8").splitlines()[0]
    sales.write_text(header + "\n", encoding="utf-8")

    with pytest.raises(GateBlocked, match=PERIOD):
        quarterly_settlement(period=PERIOD)

    assert partner_messages(mail_server) == {}
    alerts = read_messages(mail_server)
    assert len(alerts) == 1
    assert PERIOD in str(alerts[0]["Subject"])


@pytest.mark.prefect
def test_settlement_with_a_bad_program_file_stops_before_the_pull(
    adventureworks_env: Path,
    mail_server: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "config"
    shutil.copytree(TEST_DATA / "adventureworks" / "config", config)
    broken = config / "programs" / "broken.yml"
    broken.write_text(
        "program_id: broken\nname: x\nversion: 1\neffective_from: 2019-01-01\n"
        "calculation: retroactive\ntiers:\n"
        "  - {name: a, from: 0, to: 100, rate: 0.01}\n"
        "  - {name: b, from: 200, rate: 0.02}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("CHANNELOPS_CONFIG_DIR", str(config))

    with pytest.raises(ConfigError, match="tiers.1.from: gap between 100"):
        quarterly_settlement(period=PERIOD)

    with Warehouse(load_settings()) as warehouse:
        warehouse.ensure_schema()
        loaded = warehouse.query("select count(*) from ops.load_files")
    assert loaded == [(0,)]
    [alert] = read_messages(mail_server)
    assert PERIOD in str(alert["Subject"])
    assert f"ConfigError: {broken}: tiers.1.from: gap" in text_body(alert)
