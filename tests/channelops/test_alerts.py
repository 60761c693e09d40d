"""Ops alerts by e-mail and Feishu, rate limited, against real local servers."""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import sqlite3
from pathlib import Path

import pytest

from channelops.alerts import AlertLimiter, send_ops_alert
from channelops.settings import Settings, load_settings
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


def alert_outbox(settings: Settings) -> list[tuple[str, str, str, int]]:
    """The alert outbox's rows: key, channel, status, attempts."""
    path = settings.home / "alerts" / "outbox.sqlite3"
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "select message_key, channel, status, attempts from alert_outbox "
            "order by queued_at, message_key, channel"
        ).fetchall()
    return [(str(k), str(c), str(st), int(a)) for k, c, st, a in rows]


def relay_at(monkeypatch: pytest.MonkeyPatch, port: int) -> Settings:
    monkeypatch.setenv("CHANNELOPS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CHANNELOPS_SMTP_PORT", str(port))
    return load_settings()


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens: the relay is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def message_ids(sink: MailSink) -> list[str]:
    return [
        str(
            email.message_from_bytes(m.path.read_bytes(), policy=email.policy.default)[
                "Message-ID"
            ]
        )
        for m in sink.messages
    ]


def test_an_alert_is_recorded_and_a_rerun_does_not_send_it_again_by_either_channel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = ["Run r1 of nightly for 2026Q3 failed.", "Stage: build models"]
    with MailSink(tmp_path / "mail") as sink, feishu_bot() as bot:
        monkeypatch.setenv("CHANNELOPS_FEISHU_WEBHOOK_URL", bot.url)
        monkeypatch.setenv("CHANNELOPS_FEISHU_SECRET", SECRET)
        settings = relay_at(monkeypatch, sink.port)
        first = send_ops_alert(settings, "运行失败", lines, key="failure:r1")
        again = send_ops_alert(settings, "运行失败", lines, key="failure:r1")
        changed = send_ops_alert(
            settings, "运行失败", [*lines, "Error: more"], key="failure:r1"
        )
        ids = message_ids(sink)
        posted = len(bot.received)

    assert (first.email, first.feishu) == ("sent", "sent")
    assert (again.email, again.feishu) == ("already sent", "already sent")
    assert again.email_delivered
    assert (changed.email, changed.feishu) == ("sent", "sent")
    assert len(ids) == posted == 2
    rows = alert_outbox(settings)
    assert sorted(row[1:] for row in rows) == [
        ("email", "sent", 1),
        ("email", "sent", 1),
        ("feishu", "sent", 1),
        ("feishu", "sent", 1),
    ]
    keys = sorted({key for key, *_ in rows})
    assert len(keys) == 2 and all(k.startswith("alert:failure:r1:") for k in keys)
    assert TOKEN not in str(rows)


def test_an_alert_the_relay_did_not_take_is_recorded_failed_and_sent_once_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ("[channelops] 预警 2026Q3", ["P0007 risk high"])

    down = send_ops_alert(
        relay_at(monkeypatch, closed_port()), *args, key="warnings:2026Q3"
    )
    recorded = alert_outbox(load_settings())
    with MailSink(tmp_path / "mail") as sink:
        settings = relay_at(monkeypatch, sink.port)
        retried = send_ops_alert(settings, *args, key="warnings:2026Q3")
        rerun = send_ops_alert(settings, *args, key="warnings:2026Q3")
        delivered = len(sink.messages)

    assert down.email.startswith("failed: not attempted: cannot connect")
    assert not down.email_delivered
    [(key, _, status, attempts)] = recorded
    assert (status, attempts) == ("failed", 1)
    assert (retried.email, rerun.email) == ("sent", "already sent")
    assert delivered == 1
    assert alert_outbox(settings) == [(key, "email", "sent", 2)]


def test_a_rate_limited_alert_is_recorded_and_sent_when_raised_again_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHANNELOPS_ALERTS_PER_HOUR", "1")
    with MailSink(tmp_path / "mail") as sink:
        settings = relay_at(monkeypatch, sink.port)
        first = send_ops_alert(settings, "first", ["x"], key="failure:r1")
        held = send_ops_alert(settings, "second", ["y"], key="failure:r2")
        held_status = alert_outbox(settings)[-1][2]
        # An hour later, as far as the limit goes: a higher limit admits it.
        later = settings.model_copy(update={"alerts_per_hour": 5})
        released = send_ops_alert(later, "second", ["y"], key="failure:r2")
        [_, second] = sink.messages

    assert (first.email, held.email, released.email) == (
        "sent",
        "rate-limited",
        "sent",
    )
    assert held_status == "rate_limited"
    body = email.message_from_bytes(
        second.path.read_bytes(), policy=email.policy.default
    ).get_body(preferencelist=("plain",))
    assert body is not None
    assert "1 earlier alert(s) held back" in str(body.get_content())
