"""The send stage tells ops about messages it will not retry by itself."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from channelops.outbox import queue_statements
from channelops.periods import Quarter
from channelops.settings import load_settings
from channelops.warehouse import Warehouse
from flows.stages import send
from notifications.sink import MailSink
from tests.channelops.test_outbox import PARTNERS, PERIOD, publish


def test_send_stage_alerts_ops_of_refused_recipients(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    received = tmp_path / "received"
    with MailSink(received, refuse=["finance@p0002.example.cn"]) as sink:
        monkeypatch.setenv("CHANNELOPS_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("CHANNELOPS_SMTP_PORT", str(sink.port))
        settings = load_settings()
        with Warehouse(settings) as warehouse:
            warehouse.execute("create schema ops")
            warehouse.execute("create schema marts")
            warehouse.execute(
                "create table marts.dim_partner_contacts (partner_id varchar, "
                "email varchar, contact_name varchar, language varchar)"
            )
            for partner in PARTNERS[:3]:
                warehouse.execute(
                    "insert into marts.dim_partner_contacts values "
                    "(?, ?, null, 'zh-CN')",
                    (partner, f"finance@{partner.lower()}.example.cn"),
                )
            statements = tuple(
                publish(settings, partner, "10.00") for partner in PARTNERS[:3]
            )
            queue_statements(settings, warehouse, statements)

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
