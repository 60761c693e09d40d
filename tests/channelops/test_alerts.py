"""Ops alerts by e-mail and Feishu, rate limited, against real local servers."""

from __future__ import annotations

import email
import email.policy
import logging
from pathlib import Path

import pytest

from channelops.alerts import AlertLimiter, send_ops_alert
from channelops.settings import load_settings
from notifications.sink import MailSink
from tests.notifications.feishu_server import SECRET, TOKEN, feishu_bot


def test_limiter_should_hold_back_alerts_over_the_hourly_limit_and_say_so_later(
    tmp_path: Path,
) -> None:
    limiter = AlertLimiter(tmp_path, per_hour=2)

    admitted = [limiter.admit("email", now=t) for t in (0, 10, 20, 30)]
    after_an_hour = limiter.admit("email", now=3600 + 5)
    other_channel = limiter.admit("feishu", now=30)

    assert admitted == [0, 0, None, None]
    assert after_an_hour == 2
    assert other_channel == 0


def test_limiter_state_should_be_shared_by_separate_limiters(tmp_path: Path) -> None:
    AlertLimiter(tmp_path, per_hour=1).admit("email", now=0)

    assert AlertLimiter(tmp_path, per_hour=1).admit("email", now=1) is None


def test_alert_should_reach_the_ops_mailbox_and_the_feishu_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with MailSink(tmp_path / "mail") as sink, feishu_bot() as bot:
        monkeypatch.setenv("CHANNELOPS_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("CHANNELOPS_SMTP_PORT", str(sink.port))
        monkeypatch.setenv("CHANNELOPS_FEISHU_WEBHOOK_URL", bot.url)
        monkeypatch.setenv("CHANNELOPS_FEISHU_SECRET", SECRET)
        monkeypatch.setenv("CHANNELOPS_ALERTS_PER_HOUR", "2")
        settings = load_settings()
        reports = [
            send_ops_alert(
                settings, f"【告警】运行失败 {n}", ["stage pull"], key=f"a{n}"
            )
            for n in range(3)
        ]
        (first, second) = sink.messages

    assert [(r.email, r.feishu) for r in reports] == [
        ("sent", "sent"),
        ("sent", "sent"),
        ("rate-limited", "rate-limited"),
    ]
    message = email.message_from_bytes(
        first.path.read_bytes(), policy=email.policy.default
    )
    assert message["Subject"] == "【告警】运行失败 0"
    assert [b["content"]["post"]["zh_cn"]["title"] for b in bot.received] == [
        "【告警】运行失败 0",
        "【告警】运行失败 1",
    ]
    assert TOKEN not in caplog.text and SECRET not in caplog.text
    assert TOKEN not in repr(settings) and SECRET not in repr(settings)


def test_alert_without_a_feishu_webhook_should_go_by_e_mail_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with MailSink(tmp_path / "mail") as sink:
        monkeypatch.setenv("CHANNELOPS_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("CHANNELOPS_SMTP_PORT", str(sink.port))
        report = send_ops_alert(load_settings(), "s", ["x"], key="k")

    assert (report.email, report.feishu) == ("sent", "off")
