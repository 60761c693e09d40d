"""The outbox against a real DuckDB warehouse and a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import json
import logging
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from channelops.errors import ConfigError
from channelops.outbox import (
    queue_statements,
    render_statement_row,
    send_pending,
    smtp_config,
)
from channelops.publish import PublishedStatement, canonical_json, statement_path
from channelops.settings import Settings, load_settings
from channelops.warehouse import Warehouse
from notifications.documents import DocumentError
from notifications.sink import MailSink
from tests.conftest import throwaway_postgres_database

PERIOD = "2026Q3"
PARTNERS = tuple(f"P{n:04d}" for n in range(1, 9))
NAMES = {
    partner: f"测试商贸{n}号有限公司" for n, partner in enumerate(PARTNERS, start=1)
}


def document(partner: str, amount: str) -> dict[str, Any]:
    return {
        "period": PERIOD,
        "partner": {"partner_id": partner, "partner_name": NAMES[partner]},
        "currency": "CNY",
        "net_sales": "100000.00",
        "lines": [
            {
                "line_no": 1,
                "program_id": "RB-Q",
                "program_name": "季度返利",
                "calculation": "retroactive",
                "basis_amount": "100000.00",
                "tier_name": "T1",
                "rate": "0.02",
                "amount": amount,
                "source_line_count": 3,
            }
        ],
        "total_amount": amount,
        "scorecard": None,
    }


def publish(
    settings: Settings, partner: str, amount: str, version: int = 1
) -> PublishedStatement:
    """A published statement file, written as channelops.publish writes one."""
    doc = document(partner, amount)
    statement = PublishedStatement(
        statement_key=f"{partner}-{PERIOD}",
        partner_id=partner,
        period=PERIOD,
        version=version,
        content_hash=hashlib.sha256(canonical_json(doc)).hexdigest(),
        total_amount=Decimal(amount),
        currency="CNY",
        document=doc,
        is_new=True,
    )
    path = statement_path(settings, statement)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        canonical_json(
            {
                "version": version,
                "content_hash": statement.content_hash,
                "document": doc,
            }
        )
    )
    return statement


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("CHANNELOPS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CHANNELOPS_MAIL_PER_SECOND", "1000")
    return load_settings()


@pytest.fixture
def warehouse(settings: Settings) -> Iterator[Warehouse]:
    with Warehouse(settings) as warehouse:
        add_contacts(warehouse)
        yield warehouse


def add_contacts(warehouse: Warehouse) -> None:
    warehouse.execute("create schema if not exists ops")
    warehouse.execute("create schema if not exists marts")
    warehouse.execute(
        "create table marts.dim_partner_contacts (partner_id varchar, "
        "email varchar, contact_name varchar, language varchar)"
    )
    for partner in PARTNERS:
        warehouse.execute(
            "insert into marts.dim_partner_contacts values (?, ?, ?, 'zh-CN')",
            (partner, f"finance@{partner.lower()}.example.cn", "财务"),
        )


def queue_all(settings: Settings, warehouse: Warehouse) -> None:
    statements = tuple(
        publish(settings, partner, f"{n}000.00")
        for n, partner in enumerate(PARTNERS, start=1)
    )
    queue_statements(settings, warehouse, statements)


def send_through(
    sink: MailSink,
    settings: Settings,
    warehouse: Warehouse,
    render_workers: int | None = None,
) -> Any:
    update = {"smtp_port": sink.port, "render_workers": render_workers}
    return send_pending(settings.model_copy(update=update), warehouse, period=PERIOD)


def statements_received(folder: Path) -> Counter[str]:
    """How many statement e-mails each partner's mailbox got."""
    received: Counter[str] = Counter()
    for path in folder.glob("*.eml"):
        message = read_message(path)
        partner = partner_of(message)
        assert NAMES[partner] in str(message["Subject"])
        received[partner] += 1
    return received


def read_message(path: Path) -> email.message.EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


def partner_of(message: email.message.EmailMessage) -> str:
    (partner,) = {p for p in PARTNERS if p.lower() in str(message["To"])}
    return partner


def statuses(warehouse: Warehouse) -> dict[str, str]:
    return dict(warehouse.query("select partner_id, status from ops.outbox order by 1"))


# Rendering in the sending process, and in two worker processes.
RENDER_WORKERS = pytest.mark.parametrize("workers", [0, 2])


def test_a_dropped_connection_and_a_rerun_leave_every_partner_one_statement(
    settings: Settings, warehouse: Warehouse, tmp_path: Path
) -> None:
    received = tmp_path / "received"
    queue_all(settings, warehouse)

    # Message 3 is stored and the connection dropped before the reply; after
    # each reconnect, messages 4 and 5 the same: two connections in a row
    # without a confirmed delivery, so the batch stops and the rest waits.
    with MailSink(received, drop_after=(3, 4, 5)) as sink:
        first = send_through(sink, settings, warehouse)
    after_failure = statements_received(received)
    with MailSink(received) as sink:
        second = send_through(sink, settings, warehouse)
    with MailSink(received) as sink:
        third = send_through(sink, settings, warehouse)

    assert (first.sent, first.failed) == (2, 3)
    assert [key.split(":")[1] for key in first.unconfirmed] == [
        "P0003",
        "P0004",
        "P0005",
    ]
    assert sum(after_failure.values()) == 5
    assert (second.sent, second.failed, second.unconfirmed) == (3, 0, ())
    assert (third.sent, third.failed) == (0, 0)
    assert statements_received(received) == Counter(dict.fromkeys(PARTNERS, 1))
    assert Counter(statuses(warehouse).values()) == {"sent": 5, "unconfirmed": 3}
    assert all("relay's log" in line for line in first.ops_lines())


def test_a_relay_closing_connections_between_messages_delivers_all_in_one_run(
    settings: Settings, warehouse: Warehouse, tmp_path: Path
) -> None:
    received = tmp_path / "received"
    queue_all(settings, warehouse)

    with MailSink(received, close_after=(2, 5)) as sink:
        report = send_through(sink, settings, warehouse)

    assert (report.sent, report.failed, report.unconfirmed) == (8, 0, ())
    assert statements_received(received) == Counter(dict.fromkeys(PARTNERS, 1))


def test_each_statement_is_rendered_just_before_it_is_sent(
    settings: Settings,
    warehouse: Warehouse,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    queue_all(settings, warehouse)
    caplog.set_level(logging.DEBUG, logger="notifications")

    with MailSink(tmp_path / "received") as sink:
        send_through(sink, settings, warehouse, render_workers=0)

    steps = [
        ("rendered", record.args[0])
        if record.name == "notifications.render"
        else ("sent", str(record.args[0]).split(":")[1])
        for record in caplog.records
        if isinstance(record.args, tuple)
        and str(record.msg).startswith(("rendered statement", "sent message"))
    ]
    assert steps == [
        (step, partner) for partner in PARTNERS for step in ("rendered", "sent")
    ]


def test_statements_rendered_in_worker_processes_arrive_in_order_and_unchanged(
    settings: Settings, warehouse: Warehouse, tmp_path: Path
) -> None:
    queue_all(settings, warehouse)

    with MailSink(tmp_path / "received") as sink:
        report = send_through(sink, settings, warehouse, render_workers=2)
        arrived = [read_message(sunk.path) for sunk in sink.messages]

    assert report.sent == len(PARTNERS)
    assert set(statuses(warehouse).values()) == {"sent"}
    assert [partner_of(message) for message in arrived] == list(PARTNERS)
    # The attachments a worker rendered are those this process renders.
    (row,) = warehouse.query_dicts(
        "select message_key, document_path, recipients, message_id "
        "from ops.outbox where partner_id = 'P0001'"
    )
    here = render_statement_row(row)
    assert [part.get_content() for part in arrived[0].iter_attachments()] == [
        attachment.content for attachment in here.attachments
    ]


@RENDER_WORKERS
def test_a_statement_that_cannot_be_rendered_stops_the_send_after_those_before_it(
    settings: Settings, warehouse: Warehouse, tmp_path: Path, workers: int
) -> None:
    received = tmp_path / "received"
    queue_all(settings, warehouse)
    broken = statement_path(settings, publish(settings, "P0005", "5000.00"))
    good = broken.read_bytes()
    published = json.loads(good)
    published["document"]["total_amount"] = "1.00"
    broken.write_bytes(canonical_json(published))

    with MailSink(received) as sink, pytest.raises(DocumentError, match="total"):
        send_through(sink, settings, warehouse, workers)
    after_failure = statements_received(received)
    broken.write_bytes(good)
    with MailSink(received) as sink:
        rerun = send_through(sink, settings, warehouse, workers)

    assert after_failure == Counter(dict.fromkeys(PARTNERS[:4], 1))
    assert rerun.sent == 4
    assert statements_received(received) == Counter(dict.fromkeys(PARTNERS, 1))


def test_on_postgresql_the_outbox_is_indexed_by_key_and_mails_each_partner_once(
    settings: Settings, tmp_path: Path
) -> None:
    received = tmp_path / "received"
    with throwaway_postgres_database("outbox") as database:
        production = settings.model_copy(
            update={"env": "prod", "pg_database": database}
        )
        with Warehouse(production) as warehouse:
            add_contacts(warehouse)
            queue_all(production, warehouse)
            with MailSink(received) as sink:
                report = send_through(sink, production, warehouse)
            indexes = warehouse.query(
                "select indexdef from pg_indexes "
                "where schemaname = 'ops' and tablename = 'outbox'"
            )

    assert report.sent == len(PARTNERS)
    assert statements_received(received) == Counter(dict.fromkeys(PARTNERS, 1))
    # Each outcome is recorded by key: without an index, a scan per message.
    assert [str(row[0]).endswith("(message_key)") for row in indexes] == [True]


def test_refused_recipients_are_recorded_reported_and_not_retried(
    settings: Settings, warehouse: Warehouse, tmp_path: Path
) -> None:
    received = tmp_path / "received"
    refused = "finance@p0002.example.cn"
    warehouse.execute(
        "insert into marts.dim_partner_contacts values "
        "('P0005', 'gone@p0005.example.cn', null, 'zh-CN')"
    )
    queue_all(settings, warehouse)

    with MailSink(received, refuse=[refused, "gone@p0005.example.cn"]) as sink:
        first = send_through(sink, settings, warehouse)
        second = send_through(sink, settings, warehouse)

    assert (first.sent, first.failed) == (7, 0)
    assert sorted(r.recipient for r in first.refused) == [
        refused,
        "gone@p0005.example.cn",
    ]
    assert any(refused in line for line in first.ops_lines())
    assert statuses(warehouse)["P0002"] == "refused"
    assert statuses(warehouse)["P0005"] == "sent"
    assert (second.sent, second.failed, second.refused) == (0, 0, ())
    recorded = warehouse.query(
        "select recipient, reason from ops.outbox_refusals order by recipient"
    )
    assert [row[0] for row in recorded] == [refused, "gone@p0005.example.cn"]
    assert all(str(row[1]).startswith("550 ") for row in recorded)


def test_queueing_the_same_statements_twice_records_each_once(
    settings: Settings, warehouse: Warehouse
) -> None:
    queue_all(settings, warehouse)
    queue_all(settings, warehouse)

    keys = [row[0] for row in warehouse.query("select message_key from ops.outbox")]
    assert len(keys) == len(set(keys)) == len(PARTNERS)
    assert (
        json.loads(
            warehouse.query(
                "select recipients from ops.outbox where partner_id = 'P0001'"
            )[0][0]
        )[0]["email"]
        == "finance@p0001.example.cn"
    )


def test_a_corrected_version_is_mailed_with_what_changed_since_the_last(
    settings: Settings, warehouse: Warehouse, tmp_path: Path
) -> None:
    received = tmp_path / "received"
    queue_statements(settings, warehouse, (publish(settings, "P0001", "2000.00"),))
    with MailSink(received) as sink:
        send_through(sink, settings, warehouse)
    corrected = publish(settings, "P0001", "2150.50", version=2)
    queue_statements(settings, warehouse, (corrected,))

    with MailSink(received) as sink:
        report = send_through(sink, settings, warehouse)
        (sunk,) = sink.messages

    message = email.message_from_bytes(
        sunk.path.read_bytes(), policy=email.policy.default
    )
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = str(body.get_content())
    assert report.sent == 1
    assert "(v2)" in str(message["Subject"])
    assert "与上一版本（v1）相比的变化" in text
    assert "- 季度返利（RB-Q）：¥2,000.00 → ¥2,150.50（差额 ¥150.50）" in text


def test_a_version_of_delta_lines_is_mailed_with_the_full_before_and_after(
    settings: Settings, warehouse: Warehouse, tmp_path: Path
) -> None:
    """A ledger that publishes only the deltas of a correction (issue 3's)."""
    delta = document("P0001", "150.50")
    delta["lines"][0].update(
        line_kind="program_correction",
        previously_published_amount="2000.00",
        settled_amount="2150.50",
    )
    delta.update(
        supersedes_version=1,
        settlement_total_amount="2150.50",
        reason="corrects v1: input files changed",
    )
    statement = publish(settings, "P0001", "150.50", version=2)
    path = statement_path(settings, statement)
    path.write_bytes(
        canonical_json(
            {"version": 2, "content_hash": statement.content_hash, "document": delta}
        )
    )
    queue_statements(settings, warehouse, (statement,))

    with MailSink(tmp_path / "received") as sink:
        send_through(sink, settings, warehouse)
        (sunk,) = sink.messages

    message = email.message_from_bytes(
        sunk.path.read_bytes(), policy=email.policy.default
    )
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = str(body.get_content())
    assert "- 季度返利（RB-Q）：¥2,000.00 → ¥2,150.50（差额 ¥150.50）" in text
    assert "- 返利合计：¥2,000.00 → ¥2,150.50（差额 ¥150.50）" in text
    assert "变更原因：更正第 1 版：输入数据有变化" in text


RELAY_USER = "relay-user"
RELAY_PASSWORD = "s3cret-relay-passw0rd"
PASSWORD_BLOCK = "channelops-test-smtp-password"


def save_password_block(password: str) -> None:
    from prefect.blocks.system import Secret

    Secret(value=password).save(PASSWORD_BLOCK, overwrite=True)


def login_settings(settings: Settings, sink: MailSink) -> Settings:
    """The relay's user name, and its password named by a Prefect Secret block."""
    return settings.model_copy(
        update={
            "smtp_port": sink.port,
            "smtp_user": RELAY_USER,
            "smtp_password_block": PASSWORD_BLOCK,
        }
    )


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_api")
def test_the_relay_password_is_read_from_a_prefect_secret_block_to_log_in(
    settings: Settings, warehouse: Warehouse, tmp_path: Path
) -> None:
    save_password_block(RELAY_PASSWORD)
    queue_all(settings, warehouse)
    logins = {RELAY_USER: RELAY_PASSWORD}

    with MailSink(tmp_path / "received", logins=logins, login_without_tls=True) as sink:
        report = send_pending(login_settings(settings, sink), warehouse, period=PERIOD)
        logged_in = sink.logged_in

    assert (report.sent, report.failed) == (len(PARTNERS), 0)
    assert logged_in == [RELAY_USER]
    assert statements_received(tmp_path / "received") == Counter(
        dict.fromkeys(PARTNERS, 1)
    )


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_api")
def test_a_relay_that_requires_a_login_refuses_mail_sent_without_one(
    settings: Settings, warehouse: Warehouse, tmp_path: Path
) -> None:
    queue_all(settings, warehouse)
    logins = {RELAY_USER: RELAY_PASSWORD}

    with MailSink(tmp_path / "received", logins=logins, login_without_tls=True) as sink:
        report = send_through(sink, settings, warehouse)
        connections = sink.connections

    # A refusal is the server's answer, not a dropped connection: no reconnect.
    assert (report.sent, report.failed) == (0, len(PARTNERS))
    assert all("530 5.7.0 Authentication required" in p for p in report.problems)
    assert connections == 1


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_api")
def test_a_missing_secret_block_is_named_with_how_to_create_it(
    settings: Settings,
) -> None:
    settings = settings.model_copy(
        update={"smtp_user": RELAY_USER, "smtp_password_block": "no-such-block"}
    )

    with (
        pytest.raises(ConfigError, match="'no-such-block'") as raised,
        smtp_config(settings),
    ):
        pass

    assert "CHANNELOPS_SMTP_PASSWORD_BLOCK" in str(raised.value)
    assert "Secret(value='<password>').save('no-such-block')" in str(raised.value)


def test_a_password_and_a_secret_block_together_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHANNELOPS_SMTP_PASSWORD", RELAY_PASSWORD)
    monkeypatch.setenv("CHANNELOPS_SMTP_PASSWORD_BLOCK", PASSWORD_BLOCK)

    with pytest.raises(ValidationError, match="both set") as raised:
        load_settings()

    assert RELAY_PASSWORD not in str(raised.value)


def password_forms(password: str) -> list[str]:
    """The password as text and as AUTH PLAIN / LOGIN put it on the wire."""
    plain = f"\0{RELAY_USER}\0{password}".encode()
    return [
        password,
        base64.b64encode(password.encode()).decode(),
        base64.b64encode(plain).decode(),
    ]


def channelops_records(caplog: pytest.LogCaptureFixture) -> str:
    """Every record but the test relay's own protocol trace (aiosmtpd's)."""
    return "\n".join(
        f"{record.name} {record.getMessage()} {record.exc_text or ''}"
        for record in caplog.records
        if not record.name.startswith("mail.log")
    )


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_api")
@pytest.mark.parametrize("right_password", [True, False], ids=["login", "refused"])
def test_the_relay_password_appears_in_no_log_record_error_or_outbox_row(
    settings: Settings,
    warehouse: Warehouse,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    right_password: bool,
) -> None:
    stored = RELAY_PASSWORD if right_password else "wr0ng-but-still-secret"
    save_password_block(stored)
    queue_all(settings, warehouse)
    logins = {RELAY_USER: RELAY_PASSWORD}
    caplog.set_level(logging.DEBUG)

    with MailSink(tmp_path / "received", logins=logins, login_without_tls=True) as sink:
        report = send_pending(login_settings(settings, sink), warehouse, period=PERIOD)

    assert report.sent == (len(PARTNERS) if right_password else 0)
    if not right_password:
        assert "535" in report.problems[0]
    logged = channelops_records(caplog)
    assert "connected to SMTP server" in logged or "cannot connect" in logged
    outbox_rows = str(warehouse.query("select * from ops.outbox"))
    for form in password_forms(stored):
        assert form not in logged
        assert form not in str(report) and form not in outbox_rows
