"""The embedded mail sink: a real SMTP server that files messages as .eml."""

from __future__ import annotations

import smtplib
from pathlib import Path

import pytest

from notifications.sink import MailSink

RAW = (
    b"From: ops@example.com\r\n"
    b"To: finance@hengda.example.cn\r\n"
    b"Subject: test\r\n"
    b"Message-ID: <same/id?@channelops.test>\r\n"
    b"\r\n"
    b"body\r\n"
)


def send_raw(sink: MailSink, content: bytes = RAW) -> None:
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
        client.sendmail("ops@example.com", ["finance@hengda.example.cn"], content)


def test_sink_should_listen_on_a_port_the_system_picked(outbox: Path) -> None:
    with MailSink(outbox) as sink:
        assert sink.port > 0
        send_raw(sink)

    assert len(list(outbox.glob("*.eml"))) == 1


def test_sink_should_store_the_bytes_as_received(outbox: Path) -> None:
    with MailSink(outbox) as sink:
        send_raw(sink)
        (sunk,) = sink.messages

    assert sunk.path.read_bytes() == RAW
    assert (sunk.mail_from, sunk.rcpt_tos) == (
        "ops@example.com",
        ("finance@hengda.example.cn",),
    )


def test_sink_should_name_files_by_order_and_a_safe_message_id(outbox: Path) -> None:
    with MailSink(outbox) as sink:
        send_raw(sink)
        send_raw(sink, RAW.replace(b"same/id?", b"other"))
        first, second = (sunk.path.name for sunk in sink.messages)

    assert "_000001_same-id-channelops.test_" in first
    assert "_000002_other-channelops.test_" in second
    assert sorted([first, second]) == [first, second]


def test_sink_runs_sharing_a_folder_should_not_overwrite_each_other(
    outbox: Path,
) -> None:
    for _ in range(2):
        with MailSink(outbox) as sink:
            send_raw(sink)

    assert len(list(outbox.glob("*.eml"))) == 2


def test_sink_should_leave_no_temporary_files(outbox: Path) -> None:
    with MailSink(outbox) as sink:
        for _ in range(3):
            send_raw(sink)

    assert sorted(p.suffix for p in outbox.iterdir()) == [".eml"] * 3


def test_sink_that_cannot_write_should_answer_with_a_temporary_failure(
    outbox: Path,
) -> None:
    with MailSink(outbox) as sink:
        outbox.rmdir()
        with pytest.raises(smtplib.SMTPDataError) as refused:
            send_raw(sink)
        outbox.mkdir()

    assert refused.value.smtp_code == 451
    assert sink.messages == []


def test_sink_told_to_lose_a_message_should_drop_it_unstored_and_keep_the_next(
    outbox: Path,
) -> None:
    with MailSink(outbox, lose=1) as sink:
        with pytest.raises(smtplib.SMTPServerDisconnected):
            send_raw(sink)
        send_raw(sink, RAW.replace(b"same/id?", b"second"))
        stored = [sunk.path.name for sunk in sink.messages]

    [second] = stored
    assert "_second-channelops.test_" in second
    assert [path.name for path in outbox.glob("*.eml")] == stored


def test_sink_requiring_a_login_without_tls_should_refuse_mail_before_it(
    outbox: Path,
) -> None:
    with MailSink(outbox, logins={"relay": "pw"}, login_without_tls=True) as sink:
        with pytest.raises(smtplib.SMTPSenderRefused, match="Authentication"):
            send_raw(sink)
        with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
            client.login("relay", "pw")
            client.sendmail("ops@example.com", ["finance@hengda.example.cn"], RAW)
        logged_in, stored = sink.logged_in, len(sink.messages)

    assert (logged_in, stored) == (["relay"], 1)
