"""deliver() against a real SMTP server: what arrives, and what is reported."""

from __future__ import annotations

import dataclasses
import io
import logging
import socket
import ssl
import time
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pypdf
import pytest

from channelops.errors import ConfigError
from notifications.documents import Attachment, OutgoingMessage, Recipient
from notifications.mailer import DeliveryReport, SmtpConfig, deliver
from notifications.render import render_ops_alert, render_statement_message
from notifications.sink import MailSink
from tests.notifications.samples import (
    PARTNER_NAME,
    SENDER,
    SENDER_NAME,
    Outcomes,
    config_for,
    contact,
    message_id,
    read_eml,
    statement,
    stored_messages,
)

# 103 characters on which EmailMessage (policy.default, CPython 3.11.7)
# folds "v2 a" into "v2a"; found by fuzzing the header round trip.
FOLD_PRONE_SUBJECT = (
    "a 渠道 Q3 (v1) 【返利结算单】 v2 a 2026年第3季度 — 杭州恒达商贸有限公司 返利 "
    "2026年第3季度 and more words here to pass 78 characters"
)


def statement_message(
    key: str = "statement:P0001:2026Q3:v1", **changes: object
) -> OutgoingMessage:
    return render_statement_message(
        statement(**changes), (contact(),), key=key, message_id=message_id(key)
    )


def plain_message(
    key: str, *recipients: Recipient, subject: str = "s"
) -> OutgoingMessage:
    return OutgoingMessage(
        key=key,
        message_id=message_id(key),
        to=recipients or (contact(),),
        subject=subject,
        html="<p>正文</p>",
        text="正文\n",
        attachments=(),
    )


def send(
    messages: list[OutgoingMessage], config: SmtpConfig
) -> tuple[DeliveryReport, Outcomes]:
    """deliver() with callbacks that record what they were told."""
    outcomes = Outcomes()
    report = deliver(
        messages, config, on_sent=outcomes.on_sent, on_failed=outcomes.on_failed
    )
    return report, outcomes


def deliver_one(outbox: Path, message: OutgoingMessage) -> EmailMessage:
    with MailSink(outbox) as sink:
        _, outcomes = send([message], config_for(sink))
    assert outcomes.sent == [message.key], outcomes.failed
    (path,) = outbox.glob("*.eml")
    return read_eml(path)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_deliver_should_keep_the_chinese_subject_exactly(outbox: Path) -> None:
    message = statement_message()

    received = deliver_one(outbox, message)

    assert (
        received["Subject"] == "【返利结算单】杭州恒达商贸有限公司 2026年第3季度 (v1)"
    )


def test_deliver_should_keep_a_long_folded_subject_exactly(outbox: Path) -> None:
    message = plain_message("long", subject=FOLD_PRONE_SUBJECT)
    assert len(FOLD_PRONE_SUBJECT) > 78

    received = deliver_one(outbox, message)

    assert received["Subject"] == FOLD_PRONE_SUBJECT


def test_deliver_should_keep_a_long_partner_name_in_the_subject(outbox: Path) -> None:
    long_name = (
        "上海浦东新区某某电子科技股份有限公司华东区域 分销 中心 "
        "(Shanghai Pudong Electronics Technology) Co., Ltd."
    )
    message = statement_message(partner_name=long_name)

    received = deliver_one(outbox, message)

    assert len(message.subject) > 78
    assert received["Subject"] == message.subject
    assert long_name in received["Subject"]


def test_deliver_should_show_the_chinese_sender_name(outbox: Path) -> None:
    received = deliver_one(outbox, statement_message())

    (sender,) = received["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (SENDER_NAME, SENDER)
    (recipient,) = received["To"].addresses
    assert (recipient.display_name, recipient.addr_spec) == (
        "王经理",
        "finance@hengda.example.cn",
    )


def test_deliver_should_send_plain_text_beside_html_and_the_attachment(
    outbox: Path,
) -> None:
    message = statement_message()

    received = deliver_one(outbox, message)

    assert received.get_content_type() == "multipart/mixed"
    body, workbook, pdf = received.iter_parts()
    assert body.get_content_type() == "multipart/alternative"
    plain, html = body.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert plain.get_content() == message.text
    assert "<" not in plain.get_content()
    assert html.get_content_type() == "text/html"
    assert html.get_content() == message.html
    for attachment in (workbook, pdf):
        assert attachment.get_content_disposition() == "attachment"


def test_deliver_should_attach_the_workbook_under_its_chinese_name(
    outbox: Path,
) -> None:
    message = statement_message()

    received = deliver_one(outbox, message)

    attachment, _ = received.iter_attachments()
    assert attachment.get_filename() == "返利结算单_P0001_2026Q3_v1.xlsx"
    content = attachment.get_content()
    assert content == message.attachments[0].content
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    amounts = [Decimal(repr(row[7])) for row in rows[10:13]]
    assert amounts == [line.amount for line in statement().lines]


def test_deliver_should_attach_the_pdf_under_its_chinese_name_with_the_partner_name(
    outbox: Path,
) -> None:
    message = statement_message()

    received = deliver_one(outbox, message)

    _, attachment = received.iter_attachments()
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "返利结算单_P0001_2026Q3_v1.pdf"
    # Both headers carry the RFC 2231 name; clients read one or the other.
    assert attachment.get_param("name") == attachment.get_filename()
    content = attachment.get_content()
    assert content == message.attachments[1].content
    text = pypdf.PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert PARTNER_NAME in text
    assert "¥1,279,317.80" in text


def test_deliver_should_send_attachments_of_any_size_exactly_in_short_lines(
    outbox: Path,
) -> None:
    # Nothing, sizes around one base64 line (57 bytes), several lines.
    sizes = (0, 1, 56, 57, 58, 1000)
    files = tuple(
        Attachment(
            f"f{size}.bin", (bytes(range(256)) * 4)[:size], "application/octet-stream"
        )
        for size in sizes
    )
    message = dataclasses.replace(plain_message("k"), attachments=files)

    received = deliver_one(outbox, message)

    contents = [part.get_content() for part in received.iter_attachments()]
    assert contents == [attachment.content for attachment in message.attachments]
    (path,) = outbox.glob("*.eml")
    assert max(len(line) for line in path.read_bytes().splitlines()) <= 78


def test_deliver_should_set_the_given_message_id_and_a_date(outbox: Path) -> None:
    message = statement_message()

    received = deliver_one(outbox, message)

    assert received["Message-ID"] == message.message_id
    assert received["Date"].datetime.utcoffset().total_seconds() == 8 * 3600
    assert received["Auto-Submitted"] == "auto-generated"


def test_deliver_of_an_ops_alert_should_send_text_and_html_only(outbox: Path) -> None:
    alert = render_ops_alert(
        "【告警】2026Q3 数据质量闸门未通过",
        ["3 checks failed"],
        key="alert",
        message_id=message_id("alert"),
        to=(Recipient("channel-ops@example.com", None, "zh-CN"),),
    )

    received = deliver_one(outbox, alert)

    assert received.get_content_type() == "multipart/alternative"
    assert received["Subject"] == "【告警】2026Q3 数据质量闸门未通过"
    assert list(received.iter_attachments()) == []


def test_deliver_after_dropped_connection_should_report_only_the_interrupted_message(
    outbox: Path,
) -> None:
    messages = [plain_message(f"m{i}") for i in range(1, 6)]

    with MailSink(outbox, drop_after=2) as sink:
        report, outcomes = send(messages, config_for(sink))

    assert outcomes.sent == ["m1", "m3", "m4", "m5"]
    assert [key for key, _ in outcomes.failed] == ["m2"]
    assert "may have stored" in outcomes.failed[0][1]
    assert (report.sent, report.failed, report.unconfirmed) == (4, 0, 1)
    assert report.refused == []


def test_deliver_should_report_a_dropped_message_to_on_unconfirmed(
    outbox: Path,
) -> None:
    unconfirmed: list[str] = []
    messages = [plain_message(f"m{i}") for i in range(1, 4)]

    with MailSink(outbox, drop_after=2) as sink:
        outcomes = Outcomes()
        deliver(
            messages,
            config_for(sink),
            on_sent=outcomes.on_sent,
            on_failed=outcomes.on_failed,
            on_unconfirmed=lambda message, reason: unconfirmed.append(message.key),
        )

    assert (outcomes.sent, outcomes.failed, unconfirmed) == (["m1", "m3"], [], ["m2"])


def test_deliver_over_a_connection_closed_between_messages_should_send_each_once(
    outbox: Path,
) -> None:
    messages = [plain_message(f"m{i}") for i in range(1, 7)]

    # The relay closes its side after every second message, as relays that
    # cap messages per connection do; the next MAIL finds it closed.
    with MailSink(outbox, close_after=(2, 4)) as sink:
        report, outcomes = send(messages, config_for(sink))
        stored_ids = [m["Message-ID"] for m in stored_messages(sink)]

    assert outcomes.sent == [f"m{i}" for i in range(1, 7)]
    assert (report.sent, report.failed, report.unconfirmed) == (6, 0, 0)
    assert stored_ids == [message_id(f"m{i}") for i in range(1, 7)]
    assert sink.connections == 3


def test_deliver_should_send_a_batch_over_one_connection(outbox: Path) -> None:
    with MailSink(outbox) as sink:
        report, _ = send([plain_message(f"m{i}") for i in range(8)], config_for(sink))
        connections = sink.connections

    assert (report.sent, connections) == (8, 1)


def test_deliver_after_dropped_connection_should_leave_a_possible_duplicate(
    outbox: Path,
) -> None:
    messages = [plain_message(f"m{i}") for i in range(1, 4)]

    with MailSink(outbox, drop_after=2) as sink:
        send(messages, config_for(sink))
        stored_ids = [m["Message-ID"] for m in stored_messages(sink)]

    # At least once: the server kept m2 although its reply never arrived.
    assert stored_ids == [message_id("m1"), message_id("m2"), message_id("m3")]


def test_deliver_after_a_second_drop_should_not_attempt_the_rest(
    outbox: Path,
) -> None:
    messages = [plain_message(f"m{i}") for i in range(1, 6)]

    with MailSink(outbox, drop_after=(1, 2)) as sink:
        report, outcomes = send(messages, config_for(sink))

    assert (report.sent, report.failed, report.unconfirmed) == (0, 3, 2)
    reasons = dict(outcomes.failed)
    assert "may have stored" in reasons["m1"] and "may have stored" in reasons["m2"]
    for key in ("m3", "m4", "m5"):
        assert reasons[key].startswith("not attempted: the connection dropped again")


def test_deliver_to_a_refused_recipient_should_report_it_and_continue(
    outbox: Path,
) -> None:
    refused = Recipient("closed@partner.example.cn", None, "zh-CN")
    messages = [plain_message("a"), plain_message("b", refused), plain_message("c")]

    with MailSink(outbox, refuse=[refused.email]) as sink:
        report, outcomes = send(messages, config_for(sink))

    assert outcomes.sent == ["a", "c"]
    assert outcomes.failed == [("b", "all recipients refused")]
    ((key, address, reason),) = report.refused
    assert (key, address) == ("b", refused.email)
    assert reason.startswith("550 ")


def test_deliver_with_one_recipient_refused_should_still_send_to_the_other(
    outbox: Path,
) -> None:
    refused = Recipient("closed@partner.example.cn", None, "zh-CN")
    message = plain_message("both", contact(), refused)

    with MailSink(outbox, refuse=[refused.email]) as sink:
        report, outcomes = send([message], config_for(sink))
        (sunk,) = sink.messages

    assert outcomes.sent == ["both"]
    assert [r.recipient for r in report.refused] == [refused.email]
    assert sunk.rcpt_tos == (contact().email,)


def test_deliver_to_a_closed_port_should_report_every_message_unattempted() -> None:
    config = SmtpConfig(
        host="127.0.0.1",
        port=closed_port(),
        security="none",
        sender=SENDER,
        sender_name=SENDER_NAME,
    )

    report, outcomes = send([plain_message("a"), plain_message("b")], config)

    assert (report.sent, report.failed) == (0, 2)
    assert [key for key, _ in outcomes.failed] == ["a", "b"]
    assert all(
        why.startswith("not attempted: cannot connect") for _, why in outcomes.failed
    )


def test_deliver_of_no_messages_should_not_connect(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = SmtpConfig(
        host="127.0.0.1",
        port=closed_port(),
        security="none",
        sender=SENDER,
        sender_name=SENDER_NAME,
    )

    report, _ = send([], config)

    assert (report.sent, report.failed) == (0, 0)
    assert "cannot connect" not in caplog.text


def test_deliver_should_report_a_message_only_after_the_server_stored_it(
    outbox: Path,
) -> None:
    seen: list[int] = []

    with MailSink(outbox) as sink:
        deliver(
            [plain_message("a"), plain_message("b")],
            config_for(sink),
            on_sent=lambda message: seen.append(len(sink.messages)),
            on_failed=lambda message, reason: None,
        )

    assert seen == [1, 2]


def test_deliver_should_pace_messages_to_per_second(outbox: Path) -> None:
    messages = [plain_message(f"m{i}") for i in range(5)]

    with MailSink(outbox) as sink:
        started = time.monotonic()
        send(messages, config_for(sink, per_second=20.0))
        elapsed = time.monotonic() - started

    assert elapsed >= 4 / 20.0


def test_deliver_over_starttls_should_accept_a_server_signed_by_ca_file(
    outbox: Path, server_tls: ssl.SSLContext, certificate: tuple[Path, Path]
) -> None:
    with MailSink(outbox, tls_context=server_tls) as sink:
        config = config_for(sink, security="starttls", ca_file=certificate[0])
        _, outcomes = send([plain_message("tls")], config)

    assert outcomes.sent == ["tls"]


def test_deliver_over_starttls_should_refuse_an_unverified_certificate(
    outbox: Path, server_tls: ssl.SSLContext
) -> None:
    with MailSink(outbox, tls_context=server_tls) as sink:
        config = config_for(sink, security="starttls")
        _, outcomes = send([plain_message("tls")], config)

    ((_, reason),) = outcomes.failed
    assert "CERTIFICATE_VERIFY_FAILED" in reason
    assert list(outbox.glob("*.eml")) == []


def test_deliver_should_log_in_with_a_user_name_that_has_no_at_sign(
    outbox: Path, server_tls: ssl.SSLContext, certificate: tuple[Path, Path]
) -> None:
    logins = {"relay-user": "s3cret-password"}

    with MailSink(outbox, tls_context=server_tls, logins=logins) as sink:
        config = config_for(
            sink,
            security="starttls",
            ca_file=certificate[0],
            user="relay-user",
            password="s3cret-password",
        )
        _, outcomes = send([plain_message("auth")], config)

    # yagmail turns a user without "@" into "relay-user@gmail.com" unless
    # it is passed as a one-entry dict, which the mailer does.
    assert outcomes.sent == ["auth"], outcomes.failed


def test_deliver_with_a_wrong_password_should_fail_unattempted(
    outbox: Path, server_tls: ssl.SSLContext, certificate: tuple[Path, Path]
) -> None:
    with MailSink(outbox, tls_context=server_tls, logins={"u": "right"}) as sink:
        config = config_for(
            sink,
            security="starttls",
            ca_file=certificate[0],
            user="u",
            password="wrong",
        )
        _, outcomes = send([plain_message("auth")], config)

    ((_, reason),) = outcomes.failed
    assert reason.startswith("not attempted: cannot connect") and "535" in reason
    assert "wrong" not in reason


def test_deliver_should_log_one_info_line_per_message_without_content(
    outbox: Path, caplog: pytest.LogCaptureFixture
) -> None:
    messages = [statement_message("s1"), statement_message("s2")]
    caplog.set_level(logging.INFO, logger="notifications.mailer")

    with MailSink(outbox) as sink:
        send(messages, config_for(sink))

    lines = [r.getMessage() for r in caplog.records if r.name == "notifications.mailer"]
    assert [line for line in lines if line.startswith("sent message")] == [
        "sent message s1 to 1 of 1 recipients",
        "sent message s2 to 1 of 1 recipients",
    ]
    assert not any(PARTNER_NAME in line or "finance@" in line for line in lines)


def test_smtp_config_should_keep_the_password_out_of_its_repr() -> None:
    config = SmtpConfig(
        host="smtp.example.com",
        port=465,
        security="ssl",
        sender=SENDER,
        sender_name=SENDER_NAME,
        user="relay-user",
        password="s3cret-password",
    )

    assert "s3cret" not in repr(config)


def test_smtp_config_with_a_user_but_no_password_should_be_refused() -> None:
    with pytest.raises(ConfigError, match="prompt on the terminal"):
        SmtpConfig(
            host="smtp.example.com",
            port=587,
            security="starttls",
            sender=SENDER,
            sender_name=SENDER_NAME,
            user="relay-user",
        )


def test_smtp_config_with_port_zero_should_be_refused() -> None:
    with pytest.raises(
        ConfigError, match="SmtpConfig.port: expected 1 to 65535, received 0"
    ):
        SmtpConfig(host="h", port=0, security="none", sender=SENDER, sender_name="x")


def test_deliver_should_fail_a_message_the_server_rejects_and_go_on(
    outbox: Path,
) -> None:
    outcomes = Outcomes()

    def failed(message: OutgoingMessage, reason: str) -> None:
        outcomes.on_failed(message, reason)
        outbox.mkdir()  # the sink can store again

    with MailSink(outbox) as sink:
        outbox.rmdir()  # the sink answers 451 while it cannot store
        report = deliver(
            [plain_message("a"), plain_message("b")],
            config_for(sink),
            on_sent=outcomes.on_sent,
            on_failed=failed,
        )

    ((key, reason),) = outcomes.failed
    assert (key, reason[:4]) == ("a", "451 ")
    assert outcomes.sent == ["b"]
    assert (report.sent, report.failed, report.unconfirmed) == (1, 1, 0)
