"""The send stage tells ops about messages it will not retry by itself."""

from __future__ import annotations

import email
import email.policy
import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from prefect import flow
from typer.testing import CliRunner

from channelops.cli import app
from channelops.outbox import SendReport, queue_statements
from channelops.periods import Quarter
from channelops.publish import LEDGER_DDL, statement_path
from channelops.settings import Settings, load_settings
from channelops.warehouse import Warehouse
from flows.run_context import OPERATOR_LOGGERS
from flows.stages import send
from notifications.sink import MailSink
from tests.channelops.test_outbox import (
    PARTNERS,
    PASSWORD_BLOCK,
    PERIOD,
    RELAY_PASSWORD,
    RELAY_USER,
    password_forms,
    publish,
    save_password_block,
)


def queue_three_statements(settings: Settings) -> None:
    """Three partners with one contact each, and a statement queued for each."""
    with Warehouse(settings) as warehouse:
        warehouse.execute("create schema ops")
        warehouse.execute("create schema marts")
        warehouse.execute(
            "create table marts.dim_partner_contacts (partner_id varchar, "
            "email varchar, contact_name varchar, language varchar)"
        )
        for partner in PARTNERS[:3]:
            warehouse.execute(
                "insert into marts.dim_partner_contacts values (?, ?, null, 'zh-CN')",
                (partner, f"finance@{partner.lower()}.example.cn"),
            )
        statements = tuple(
            publish(settings, partner, "10.00") for partner in PARTNERS[:3]
        )
        # The ledger rows channelops.publish writes beside the files.
        warehouse.execute(LEDGER_DDL)
        for statement in statements:
            warehouse.execute(
                "insert into ops.statement_versions values "
                "(?, ?, ?, ?, ?, 'CNY', ?, 1, ?, 'inputs', 'test', 'run-1', ?)",
                (
                    statement.statement_key,
                    statement.partner_id,
                    statement.period,
                    statement.version,
                    statement.content_hash,
                    statement.total_amount,
                    str(statement_path(settings, statement)),
                    datetime(2026, 10, 10),
                ),
            )
        queue_statements(settings, warehouse, statements)


def test_send_stage_alerts_ops_of_refused_recipients(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    received = tmp_path / "received"
    with MailSink(received, refuse=["finance@p0002.example.cn"]) as sink:
        monkeypatch.setenv("CHANNELOPS_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("CHANNELOPS_SMTP_PORT", str(sink.port))
        settings = load_settings()
        queue_three_statements(settings)

        report = send.fn(Quarter.parse(PERIOD))
        alerts = [
            email.message_from_bytes(m.path.read_bytes(), policy=email.policy.default)
            for m in sink.messages
            if m.rcpt_tos == (settings.ops_email,)
        ]

    assert report.sent == 2
    (alert,) = alerts
    assert "邮件待核对" in str(alert["Subject"])
    body = alert.get_body(preferencelist=("plain",))
    assert body is not None
    assert "finance@p0002.example.cn" in str(body.get_content())


@contextmanager
def operator_lines_sent_to_prefect() -> Iterator[None]:
    """channelops' INFO lines go to the run's log, as prefect.yaml configures."""
    from prefect.logging.handlers import APILogHandler

    handler = APILogHandler()
    loggers = [logging.getLogger(name) for name in OPERATOR_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


def run_log(flow_run_id: object) -> str:
    """Every line of one flow run's log, as the Prefect UI shows it."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()
    with get_client(sync_client=True) as client:
        logs = client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
        )
    return "\n".join(log.message for log in logs)


@flow(name="send statements for the test")
def send_statements() -> SendReport:
    return send(Quarter.parse(PERIOD))


@pytest.mark.prefect
def test_a_run_that_logs_in_to_the_relay_leaves_no_password_in_its_prefect_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_password_block(RELAY_PASSWORD)
    logins = {RELAY_USER: RELAY_PASSWORD}
    with MailSink(tmp_path / "received", logins=logins, login_without_tls=True) as sink:
        monkeypatch.setenv("CHANNELOPS_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("CHANNELOPS_SMTP_PORT", str(sink.port))
        monkeypatch.setenv("CHANNELOPS_SMTP_USER", RELAY_USER)
        monkeypatch.setenv("CHANNELOPS_SMTP_PASSWORD_BLOCK", PASSWORD_BLOCK)
        queue_three_statements(load_settings())
        with operator_lines_sent_to_prefect():
            state = send_statements(return_state=True)
        logged_in = sink.logged_in

    log = run_log(state.state_details.flow_run_id)
    assert state.is_completed() and logged_in == [RELAY_USER]
    assert "login=yes" in log and "Sent 3 statement message(s)" in log
    for form in password_forms(RELAY_PASSWORD):
        assert form not in log


def mailbox(folder: Path) -> tuple[Counter[str], list[EmailMessage]]:
    """Statements received per partner, and the messages sent to ops."""
    statements: Counter[str] = Counter()
    to_ops = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(
            path.read_bytes(), policy=email.policy.default
        )
        assert isinstance(message, EmailMessage)
        partners = [p for p in PARTNERS if p.lower() in str(message["To"])]
        if partners:
            statements.update(partners)
        else:
            to_ops.append(message)
    return statements, to_ops


@pytest.mark.prefect
def test_a_statement_the_relay_lost_is_unconfirmed_ops_told_and_resent_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    received = tmp_path / "received"
    monkeypatch.setenv("CHANNELOPS_SMTP_HOST", "127.0.0.1")
    # The relay takes P0002's statement, then drops the connection without
    # storing it or replying: the sender cannot know it was lost.
    with MailSink(received, lose=2) as sink:
        monkeypatch.setenv("CHANNELOPS_SMTP_PORT", str(sink.port))
        settings = load_settings()
        queue_three_statements(settings)
        first = send.fn(Quarter.parse(PERIOD))
        rerun = send.fn(Quarter.parse(PERIOD))
    after_loss, alerts = mailbox(received)
    with MailSink(received) as sink:
        monkeypatch.setenv("CHANNELOPS_SMTP_PORT", str(sink.port))
        runner = CliRunner()
        command = ["resend", "--period", PERIOD, "--partner", "P0002"]
        command += ["--version", "1", "--request", "OPS-17"]
        resent = runner.invoke(app, command)
        again = runner.invoke(app, command)
    statements, _ = mailbox(received)

    [lost] = first.unconfirmed
    [message_id] = first.unconfirmed_message_ids
    assert lost.startswith("statement:P0002:") and (first.sent, first.failed) == (2, 0)
    assert (rerun.sent, rerun.failed, rerun.unconfirmed) == (0, 0, ())
    assert after_loss == Counter({"P0001": 1, "P0003": 1})
    [alert] = alerts
    body = alert.get_body(preferencelist=("plain",))
    assert body is not None and "邮件待核对" in str(alert["Subject"])
    text = str(body.get_content())
    assert lost in text and message_id in text and "channelops resend" in text
    assert resent.exit_code == 0 and again.exit_code == 0, resent.output + again.output
    assert statements == Counter({"P0001": 1, "P0002": 1, "P0003": 1})
    with Warehouse(load_settings()) as warehouse:
        statuses = warehouse.query(
            "select message_key, status from ops.outbox "
            "where partner_id = 'P0002' order by queued_at, message_key"
        )
    assert statuses == [
        (lost, "unconfirmed"),
        ("resend:P0002:2026Q3:v1:OPS-17", "sent"),
    ]
