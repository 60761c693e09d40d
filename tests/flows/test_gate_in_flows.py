"""The gate inside the settlement flow, on corrupted copies of AdventureWorks.

Each test settles 2019Q4 from the AdventureWorks resellers and their sales
of 2019Q3-Q4 (a slice, to keep the runs short), with one corruption, through
the real flow, a real Prefect API and a real SMTP server, and checks that the
run blocks or holds as docs/gate.md declares and that no partner is mailed.
AdventureWorks has no payments or feedback: their corruption is tested on
the demo network's exports.
"""

from __future__ import annotations

import csv
import email
import email.policy
import shutil
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest

from channelops.demo import (
    BOM_ENCODING,
    FEEDBACK_FILE,
    PAYMENTS_FILE,
    PLAIN_ENCODING,
    generate_demo,
)
from channelops.errors import GateBlocked, InputError
from channelops.settings import load_settings
from channelops.warehouse import Warehouse
from flows.monthly_scorecards import monthly_scorecards
from flows.quarterly_settlement import quarterly_settlement
from tests.conftest import ADVENTUREWORKS, TEST_DATA
from tests.expectations.test_unknown_partner import UNKNOWN, name_unknown_partner

PERIOD = "2019Q4"
SLICE_MONTHS = ("2019-07", "2019-08", "2019-09", "2019-10", "2019-11", "2019-12")
SALES = "FactResellerSales.csv"
PARTNER_DOMAIN = "@resellers.example.com"

Corruption = Callable[[list[dict[str, str]]], list[dict[str, str]]]


@pytest.fixture(scope="module")
def sales_slice() -> tuple[list[str], list[dict[str, str]]]:
    with (ADVENTUREWORKS / SALES).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = [row for row in reader if row["OrderDate"][:7] in SLICE_MONTHS]
        assert reader.fieldnames is not None
        return list(reader.fieldnames), rows


@pytest.fixture
def drop(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sales_slice: tuple[list[str], list[dict[str, str]]],
) -> Path:
    """A drop folder with the slice, read through the AdventureWorks mapping."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    shutil.copy(ADVENTUREWORKS / "Resellers.csv", folder)
    shutil.copy(TEST_DATA / "adventureworks" / "reseller_contacts.csv", folder)
    columns, rows = sales_slice
    write_sales(folder, columns, rows)
    monkeypatch.setenv("CHANNELOPS_DROP_DIR", str(folder))
    monkeypatch.setenv(
        "CHANNELOPS_CONFIG_DIR", str(TEST_DATA / "adventureworks" / "config")
    )
    monkeypatch.setenv("CHANNELOPS_CURRENCY", "USD")
    return folder


def write_sales(folder: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    with (folder / SALES).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def corrupt(
    drop: Path,
    sales_slice: tuple[list[str], list[dict[str, str]]],
    corruption: Corruption,
    columns: list[str] | None = None,
) -> None:
    original_columns, rows = sales_slice
    changed = corruption([dict(row) for row in rows])
    write_sales(drop, columns or original_columns, changed)


def read_messages(folder: Path) -> list[EmailMessage]:
    messages = []
    for path in sorted(folder.glob("*.eml")):
        parsed = email.message_from_bytes(
            path.read_bytes(), policy=email.policy.default
        )
        assert isinstance(parsed, EmailMessage)
        messages.append(parsed)
    return messages


def partner_mail(folder: Path) -> list[EmailMessage]:
    return [m for m in read_messages(folder) if PARTNER_DOMAIN in str(m["To"])]


def ops_alert_text(folder: Path) -> str:
    alerts = [m for m in read_messages(folder) if PARTNER_DOMAIN not in str(m["To"])]
    assert len(alerts) == 1, [str(m["Subject"]) for m in alerts]
    body = alerts[0].get_body(preferencelist=("plain",))
    assert body is not None
    return f"{alerts[0]['Subject']}\n{body.get_content()}"


def ops_rows(table: str) -> int:
    """Rows of ``ops.<table>``; none when no stage has created it yet."""
    with Warehouse(load_settings()) as warehouse:
        tables = warehouse.query(
            "select count(*) from information_schema.tables "
            "where table_schema = 'ops' and table_name = ?",
            (table,),
        )
        if tables[0][0] == 0:
            return 0
        return int(warehouse.query(f"select count(*) from ops.{table}")[0][0])


def published_versions() -> int:
    return ops_rows("statement_versions")


def latest_artifact(key: str) -> str:
    """The Markdown of the newest artifact with ``key`` on the Prefect API."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            limit=1,
            sort=ArtifactSort.UPDATED_DESC,
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
        )
    assert artifacts, f"no artifact {key!r}"
    return str(artifacts[0].data)


def in_q4(row: dict[str, str]) -> bool:
    return row["OrderDate"] >= "2019-10-01"


def duplicated_lines(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return rows + [row for row in rows if in_q4(row)][:25]


def unknown_partner(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    next(row for row in rows if in_q4(row))["ResellerKey"] = "99999"
    return rows


def unparseable_amount(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    next(row for row in rows if in_q4(row))["SalesAmount"] = "1,2,3"
    return rows


def quarter_missing(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [row for row in rows if not in_q4(row)]


def last_two_months_missing(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [row for row in rows if row["OrderDate"] < "2019-11-01"]


@pytest.mark.prefect
@pytest.mark.parametrize(
    ("corruption", "failing_check"),
    [
        (duplicated_lines, "order_lines_nothing_quarantined"),
        (unknown_partner, "order_lines_nothing_quarantined"),
        (unparseable_amount, "order_lines_nothing_quarantined"),
        (quarter_missing, "order_lines_present_in_period"),
        (last_two_months_missing, "order_lines_not_collapsed"),
    ],
)
def test_corrupted_sales_should_block_and_mail_no_partner(
    drop: Path,
    sales_slice: tuple[list[str], list[dict[str, str]]],
    mail_server: Path,
    corruption: Corruption,
    failing_check: str,
) -> None:
    corrupt(drop, sales_slice, corruption)

    with pytest.raises(GateBlocked, match=failing_check):
        quarterly_settlement(period=PERIOD)

    assert partner_mail(mail_server) == []
    assert published_versions() == 0
    alert = ops_alert_text(mail_server)
    assert "已阻止发布" in alert and failing_check in alert
    assert "what to do:" in alert


def settle() -> None:
    quarterly_settlement(period=PERIOD)


def mail_monthly_scorecards() -> None:
    monthly_scorecards(period="2019-12")


@pytest.mark.prefect
@pytest.mark.parametrize("run", [settle, mail_monthly_scorecards])
@pytest.mark.parametrize(
    ("file_text", "reason"),
    [
        (b"", "the file is empty"),
        (b"SalesOrderNumber,OrderDate,ProductKey,ResellerKey\n", "SalesAmount"),
    ],
)
def test_empty_file_or_missing_column_should_stop_the_run_before_publishing(
    drop: Path,
    mail_server: Path,
    file_text: bytes,
    reason: str,
    run: Callable[[], None],
) -> None:
    (drop / SALES).write_bytes(file_text)

    with pytest.raises(InputError, match=reason):
        run()

    # The pull stage stopped the run: the gate never ran, ops were told.
    assert partner_mail(mail_server) == []
    assert published_versions() == 0
    assert ops_rows("gate_results") == 0
    alert = ops_alert_text(mail_server)
    assert SALES in alert and "Stage: pull files" in alert


def order_entered_twice(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """One 2019Q4 order copied under a new order number: new keys, same look."""
    first = next(row for row in rows if in_q4(row))
    copies = [
        {**row, "SalesOrderNumber": "SO99999"}
        for row in rows
        if row["SalesOrderNumber"] == first["SalesOrderNumber"]
    ]
    return rows + copies


@pytest.mark.prefect
def test_warning_should_hold_statements_until_an_operator_gives_a_reason(
    drop: Path,
    sales_slice: tuple[list[str], list[dict[str, str]]],
    mail_server: Path,
) -> None:
    corrupt(drop, sales_slice, order_entered_twice)

    held = quarterly_settlement(period=PERIOD)

    assert held.held is True and held.gate is not None
    assert [c.name for c in held.gate.warnings] == [
        "order_lines_no_duplicate_looking_orders"
    ]
    assert held.publish is not None and held.publish.statements
    assert (partner_mail(mail_server), published_versions()) == ([], 0)
    alert = ops_alert_text(mail_server)
    assert "暂缓发布" in alert and "SO99999" in alert
    assert "publish_despite_warnings" in alert
    artifact = latest_artifact("gate-2019q4")
    assert "PASSED with warnings" in artifact
    assert "order_lines_no_duplicate_looking_orders" in artifact

    reason = "经销商确认两张订单都是真实的 / both orders confirmed by the reseller"
    released = quarterly_settlement(period=PERIOD, publish_despite_warnings=reason)

    assert released.held is False
    assert (
        released.send is not None
        and released.send.sent == len(partner_mail(mail_server)) > 0
    )
    with Warehouse(load_settings()) as warehouse:
        overrides = warehouse.query(
            "select override.period, override.reason, override.warnings, "
            "count(distinct version.statement_key) "
            "from ops.gate_overrides as override "
            "join ops.statement_versions as version "
            "on version.run_id = override.run_id "
            "group by override.period, override.reason, override.warnings"
        )
        results = warehouse.query("select count(distinct run_id) from ops.gate_results")
    assert overrides == [
        (
            PERIOD,
            reason,
            "order_lines_no_duplicate_looking_orders",
            len(released.publish.statements if released.publish else ()),
        )
    ]
    assert results == [(2,)]


@pytest.mark.prefect
def test_unknown_partner_on_payments_and_feedback_should_block_and_mail_no_partner(
    isolated_settings: Path, mail_server: Path
) -> None:
    inbox = isolated_settings / "inbox"
    generate_demo(inbox, partner_count=12, last_quarter="2026Q3")
    name_unknown_partner(inbox / PAYMENTS_FILE, PLAIN_ENCODING)
    name_unknown_partner(inbox / FEEDBACK_FILE, BOM_ENCODING)

    with pytest.raises(GateBlocked, match="2026Q3: payments_partner_known[.]"):
        quarterly_settlement(period="2026Q3")

    messages = read_messages(mail_server)
    assert [str(m["To"]) for m in messages] == [load_settings().ops_email]
    assert published_versions() == 0
    body = messages[0].get_body(preferencelist=("plain",))
    assert body is not None
    alert = body.get_content()
    # The block names the payment's file and row; the feedback row warns.
    assert f"file_name='{PAYMENTS_FILE}', row_number=2, partner_id='{UNKNOWN}'" in alert
    assert "feedback_partner_known" in alert
