"""Send rendered messages over SMTP on one connection per batch.

yagmail opens (and after a drop reopens) the connection; the MIME is built
here with the standard ``email`` package and handed to that connection.
yagmail's own ``send()`` is not used: it retries a dropped connection by
itself, so a message the server stored before dropping goes out twice; it
also puts raw HTML in the text/plain part and gives ``text/*`` attachments
no Content-Disposition.

Plain SMTP cannot close the window between the server storing a message and
the client reading the reply (RFC 1047). The envelope (MAIL, RCPT) and the
content (DATA) are therefore sent as separate steps: a connection that drops
before the content went out (a relay closing an idle or recycled connection)
is reopened and the same message sent on the new one, since the server
cannot have kept it; a drop after the content went out reports the message
*unconfirmed*, because the server may have stored it. Unconfirmed messages
are never retried here; the caller's outbox decides, and the stable
Message-ID lets a duplicate be recognised.

Runs in the flows' send and alert tasks (``channelops.outbox``), against the
configured relay or, for local runs, the embedded ``notifications.sink``.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import smtplib
import ssl
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypeGuard
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yagmail

from channelops.errors import ConfigError
from notifications.documents import (
    Attachment,
    InlineImage,
    OutgoingMessage,
    Recipient,
)

logger = logging.getLogger(__name__)

Security = Literal["none", "starttls", "ssl"]
SECURITY_MODES: tuple[Security, ...] = ("none", "starttls", "ssl")

# Connections in a row that may drop without confirming a single message
# before the rest of the batch is given up: enough to ride out a relay
# restart, while a server that keeps dropping stops the batch before many
# messages sit in the at-least-once window.
DROPS_WITHOUT_DELIVERY = 2

# The reason given when the server refused every recipient of a message.
ALL_REFUSED = "all recipients refused"

# compat32 with CRLF: email.header.Header folds a long Chinese subject without
# losing spaces, which EmailMessage under policy.default does not (3.11.7).
_WIRE_POLICY = compat32.clone(linesep="\r\n")
# Characters per line of a base64 body (RFC 2045), as the email package writes.
BASE64_LINE = 76


@dataclass(frozen=True, kw_only=True)
class SmtpConfig:
    """Where and how to send.

    ``sender`` is the envelope and From address, ``sender_name`` its display
    name (Chinese is fine). ``password`` never appears in repr or logs.
    ``ca_file`` replaces the system trust store with a private CA bundle,
    for a relay whose certificate an internal CA signed.
    """

    host: str
    port: int
    security: Security
    sender: str
    sender_name: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    per_second: float = 10.0
    timeout_seconds: float = 30.0
    ca_file: Path | None = None
    timezone: str = "Asia/Shanghai"

    def __post_init__(self) -> None:
        _check_config(self)


class RefusedRecipient(NamedTuple):
    """A recipient the server refused for one message."""

    key: str
    recipient: str
    reason: str


@dataclass(frozen=True)
class DeliveryReport:
    """What one ``deliver`` call did.

    ``sent + failed + unconfirmed`` counts every message: ``failed`` ones
    certainly did not reach the server, ``unconfirmed`` ones may have.
    """

    sent: int
    failed: int
    refused: list[RefusedRecipient]
    unconfirmed: int = 0


Outcome = Callable[[OutgoingMessage, str], None]


def deliver(
    messages: Iterable[OutgoingMessage],
    config: SmtpConfig,
    *,
    on_sent: Callable[[OutgoingMessage], None],
    on_failed: Outcome,
    on_unconfirmed: Outcome | None = None,
) -> DeliveryReport:
    """Send each message once over one reused connection, reporting each.

    ``on_sent`` runs right after the server accepted a message; ``on_failed``
    with a reason when it certainly did not; ``on_unconfirmed`` (default:
    ``on_failed``) when the connection dropped after the content went out,
    so the server may have stored it. Exactly one runs per message. A
    connection dropped before the content went out is reopened and the
    message sent again on it; refused recipients are reported and the batch
    continues. An exception raised by a callback stops the batch.
    """
    batch = _Batch(
        config,
        on_sent=on_sent,
        on_failed=on_failed,
        on_unconfirmed=on_unconfirmed or on_failed,
    )
    try:
        for message in messages:
            batch.send(message)
    finally:
        batch.close()
    report = batch.report()
    logger.info(
        "delivery via %s:%d finished: %d sent, %d failed, %d unconfirmed, "
        "%d recipients refused",
        config.host,
        config.port,
        report.sent,
        report.failed,
        report.unconfirmed,
        len(report.refused),
    )
    return report


class _EnvelopeDropped(Exception):
    """The connection dropped before the message content was sent."""


class _Batch:
    """The state of one ``deliver`` call: connection, pace and tally."""

    def __init__(
        self,
        config: SmtpConfig,
        *,
        on_sent: Callable[[OutgoingMessage], None],
        on_failed: Outcome,
        on_unconfirmed: Outcome,
    ) -> None:
        self._config = config
        self._connection = _Connection(config)
        self._throttle = _Throttle(config.per_second)
        self._on_sent = on_sent
        self._on_failed = on_failed
        self._on_unconfirmed = on_unconfirmed
        self._sent = 0
        self._failed = 0
        self._unconfirmed = 0
        self._refused: list[RefusedRecipient] = []

    def send(self, message: OutgoingMessage) -> None:
        # A drop before DATA leaves nothing on the server: send again on a
        # new connection, as long as the connection budget allows.
        while True:
            smtp = self._connection.acquire()
            if smtp is None:
                reason = f"not attempted: {self._connection.unusable_reason}"
                self._fail(message, reason, attempted=False)
                return
            try:
                self._attempt(smtp, message)
            except _EnvelopeDropped:
                continue
            return

    def _attempt(self, smtp: smtplib.SMTP, message: OutgoingMessage) -> None:
        self._throttle.wait()
        recipients = [recipient.email for recipient in message.to]
        try:
            refused = _send_envelope(smtp, self._config.sender, recipients)
        except smtplib.SMTPRecipientsRefused as error:
            self._connection.release_if_closed(smtp)
            self._refuse(message, error.recipients)
            self._fail(message, ALL_REFUSED)
            return
        except OSError as error:
            # smtplib's errors are OSErrors too: a reply (530 at MAIL) is a
            # refusal of this message, not a dropped connection.
            if _is_server_reply(error):
                self._connection.release_if_closed(smtp)
                self._fail(message, _describe_error(error))
                return
            self._connection.lost(smtp, error)
            logger.info(
                "message %s: connection dropped before its content was sent; "
                "sending it on a new connection",
                message.key,
            )
            raise _EnvelopeDropped from error
        try:
            code, reply = smtp.data(mime_bytes(message, self._config))
        except smtplib.SMTPDataError as error:
            # DATA itself was refused: no content went out.
            _reset(smtp)
            self._connection.release_if_closed(smtp)
            self._fail(message, _describe_error(error))
            return
        except OSError as error:
            self._connection.lost(smtp, error)
            self._unconfirm(
                message,
                f"connection lost while sending, the server may have stored "
                f"the message: {error}",
            )
            return
        if code != 250:
            _reset(smtp)
            self._connection.release_if_closed(smtp)
            self._fail(message, _reply(code, reply))
            return
        self._connection.delivered()
        self._accept(message, refused)

    def close(self) -> None:
        self._connection.close()

    def report(self) -> DeliveryReport:
        return DeliveryReport(
            self._sent, self._failed, list(self._refused), self._unconfirmed
        )

    def _accept(
        self, message: OutgoingMessage, refused: dict[str, tuple[int, bytes]]
    ) -> None:
        self._refuse(message, refused)
        self._sent += 1
        logger.info(
            "sent message %s to %d of %d recipients",
            message.key,
            len(message.to) - len(refused),
            len(message.to),
        )
        self._on_sent(message)

    def _fail(
        self, message: OutgoingMessage, reason: str, *, attempted: bool = True
    ) -> None:
        self._failed += 1
        # The reason an unusable connection skips the rest is logged once.
        level = logging.WARNING if attempted else logging.DEBUG
        logger.log(level, "message %s not delivered: %s", message.key, reason)
        self._on_failed(message, reason)

    def _unconfirm(self, message: OutgoingMessage, reason: str) -> None:
        self._unconfirmed += 1
        logger.warning("message %s unconfirmed: %s", message.key, reason)
        self._on_unconfirmed(message, reason)

    def _refuse(
        self, message: OutgoingMessage, refused: dict[str, tuple[int, bytes]]
    ) -> None:
        for address, (code, text) in refused.items():
            reason = _reply(code, text)
            logger.warning("message %s: recipient refused: %s", message.key, reason)
            self._refused.append(RefusedRecipient(message.key, address, reason))


def _send_envelope(
    smtp: smtplib.SMTP, sender: str, recipients: list[str]
) -> dict[str, tuple[int, bytes]]:
    """MAIL and RCPT as ``smtplib.SMTP.sendmail`` sends them; the refused."""
    smtp.ehlo_or_helo_if_needed()
    code, reply = smtp.mail(sender)
    if code != 250:
        _reset(smtp)
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused: dict[str, tuple[int, bytes]] = {}
    for recipient in recipients:
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            refused[recipient] = (code, reply)
    if len(refused) == len(recipients):
        _reset(smtp)
        raise smtplib.SMTPRecipientsRefused(refused)
    return refused


def _reset(smtp: smtplib.SMTP) -> None:
    """RSET after a refusal, as sendmail does; a dead connection is noticed later."""
    try:
        smtp.rset()
    except (smtplib.SMTPServerDisconnected, OSError):
        smtp.close()


class _Connection:
    """The batch's SMTP connection, opened by yagmail, reopened when dropped.

    It is given up once ``DROPS_WITHOUT_DELIVERY`` connections in a row
    dropped without the server confirming a message.
    """

    def __init__(self, config: SmtpConfig) -> None:
        self._config = config
        self._client: Any = None
        self._smtp: smtplib.SMTP | None = None
        self._fruitless_drops = 0
        self._delivered_on_this = False
        self._has_connected = False
        self.unusable_reason: str | None = None

    def acquire(self) -> smtplib.SMTP | None:
        """The open connection, opening it if needed; None once unusable."""
        if self._smtp is not None:
            return self._smtp
        if self.unusable_reason is not None:
            return None
        if self._has_connected and not self._may_reconnect():
            return None
        return self._open()

    def delivered(self) -> None:
        self._delivered_on_this = True

    def lost(self, smtp: smtplib.SMTP, error: BaseException) -> None:
        logger.warning(
            "connection to %s:%d lost: %s", self._config.host, self._config.port, error
        )
        smtp.close()
        self._smtp = None
        if self._delivered_on_this:
            self._fruitless_drops = 0
        else:
            self._fruitless_drops += 1

    def release_if_closed(self, smtp: smtplib.SMTP) -> None:
        """Forget a connection smtplib closed itself (a 421 reply)."""
        if smtp.sock is None:
            self._smtp = None

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException) as error:
            # The batch is over; a failed goodbye changes nothing delivered.
            logger.debug("QUIT to %s failed: %s", self._config.host, error)
        finally:
            smtp.close()

    def _may_reconnect(self) -> bool:
        if self._fruitless_drops >= DROPS_WITHOUT_DELIVERY:
            self.unusable_reason = (
                f"the connection dropped again: {self._fruitless_drops} "
                "connections in a row dropped without delivering a message"
            )
            logger.warning(
                "%s; the rest of the batch is not attempted", self.unusable_reason
            )
            return False
        return True

    def _open(self) -> smtplib.SMTP | None:
        config = self._config
        if self._client is None:
            self._client = _yagmail_client(config)
        try:
            self._client.login()
        except (OSError, smtplib.SMTPException) as error:
            _close_half_open(self._client)
            self.unusable_reason = (
                f"cannot connect to {config.host}:{config.port} "
                f"(security={config.security}): {error}"
            )
            logger.warning("%s", self.unusable_reason)
            return None
        smtp: smtplib.SMTP = self._client.smtp
        self._smtp = smtp
        self._has_connected = True
        self._delivered_on_this = False
        logger.info(
            "connected to SMTP server %s:%d (security=%s, login=%s)",
            config.host,
            config.port,
            config.security,
            "yes" if config.user else "no",
        )
        return smtp


class _Throttle:
    """Space send attempts at least ``1 / per_second`` seconds apart."""

    def __init__(self, per_second: float) -> None:
        self._interval = 1.0 / per_second
        self._next_at = 0.0

    def wait(self) -> None:
        now = time.monotonic()
        if now < self._next_at:
            time.sleep(self._next_at - now)
            now = self._next_at
        self._next_at = now + self._interval


def mime_bytes(message: OutgoingMessage, config: SmtpConfig) -> bytes:
    """The message as sent: mixed(related(alternative(text, html), images…), files…).

    ``related`` is there only with inline images, ``mixed`` only with files.
    """
    bodies: dict[bytes, bytes] = {}
    root = _alternative(message)
    if message.inline_images:
        alternative = root
        root = MIMEMultipart("related", boundary=_boundary(message, "related"))
        root.attach(alternative)
        for image in message.inline_images:
            root.attach(_inline_part(image, bodies))
    if message.attachments:
        alternative = root
        root = MIMEMultipart("mixed", boundary=_boundary(message, "mixed"))
        root.attach(alternative)
        for attachment in message.attachments:
            root.attach(_attachment_part(attachment, bodies))
    root["From"] = formataddr((config.sender_name, config.sender), "utf-8")
    root["To"] = ", ".join(_address(recipient) for recipient in message.to)
    # compat32 documents Header objects as header values; typeshed says str.
    root["Subject"] = Header(message.subject, "utf-8")  # type: ignore[assignment]
    root["Date"] = format_datetime(datetime.now(ZoneInfo(config.timezone)))
    root["Message-ID"] = message.message_id
    # RFC 3834: tells auto-responders not to answer a machine.
    root["Auto-Submitted"] = "auto-generated"
    wire = root.as_bytes(policy=_WIRE_POLICY)
    for placeholder, body in bodies.items():
        wire = wire.replace(placeholder, body, 1)
    return wire


def _alternative(message: OutgoingMessage) -> MIMEMultipart:
    alternative = MIMEMultipart(
        "alternative", boundary=_boundary(message, "alternative")
    )
    for body, subtype in ((message.text, "plain"), (message.html, "html")):
        part = MIMEText(body, subtype, "utf-8")
        del part["MIME-Version"]
        alternative.attach(part)
    return alternative


def _attachment_part(attachment: Attachment, bodies: dict[bytes, bytes]) -> MIMEBase:
    part = _base64_part(attachment.mime_type, attachment.content, bodies)
    name = attachment.filename
    if name.isascii():
        part.set_param("name", name)
        part.add_header("Content-Disposition", "attachment", filename=name)
    else:
        # RFC 2231 on both headers: clients read one or the other.
        part.set_param("name", name, charset="utf-8")
        part.add_header(
            "Content-Disposition", "attachment", filename=("utf-8", "", name)
        )
    return part


def _inline_part(image: InlineImage, bodies: dict[bytes, bytes]) -> MIMEBase:
    part = _base64_part(image.mime_type, image.content, bodies)
    part.add_header("Content-ID", f"<{image.cid}>")
    part.add_header("Content-Disposition", "inline", filename=image.filename)
    return part


def _base64_part(
    mime_type: str, content: bytes, bodies: dict[bytes, bytes]
) -> MIMEBase:
    """A base64 part holding a one-line placeholder for its body.

    The email generator writes a body one 76-character line at a time, which
    took longer than rendering the statement's workbook; ``mime_bytes`` swaps
    each placeholder for the encoded body instead: the same bytes
    ``encoders.encode_base64`` and the generator would have written.
    """
    maintype, subtype = mime_type.split("/")
    part = MIMEBase(maintype, subtype)
    del part["MIME-Version"]
    placeholder = f"channelops-body-{uuid.uuid4().hex}"
    part.set_payload(placeholder + "\n")
    part["Content-Transfer-Encoding"] = "base64"
    bodies[f"{placeholder}\r\n".encode("ascii")] = _base64_lines(content)
    return part


def _base64_lines(content: bytes) -> bytes:
    """RFC 2045 base64: lines of 76 characters, each ended by CRLF."""
    encoded = base64.b64encode(content)
    return b"".join(
        encoded[start : start + BASE64_LINE] + b"\r\n"
        for start in range(0, len(encoded), BASE64_LINE)
    )


def _boundary(message: OutgoingMessage, role: str) -> str:
    """A boundary fixed per message; "_" never occurs in base64 bodies."""
    seed = f"{message.message_id}/{role}".encode()
    return f"=_channelops_{hashlib.sha256(seed).hexdigest()[:24]}"


def _address(recipient: Recipient) -> str:
    return formataddr((recipient.name or "", recipient.email), "utf-8")


def _yagmail_client(config: SmtpConfig) -> Any:
    login = bool(config.user)
    # A dict keeps yagmail from appending "@gmail.com" to a user name
    # without "@" (and to the empty user of a login-less connection).
    user = config.user if login else config.sender
    client = yagmail.SMTP(
        user={user: user},
        password=config.password,
        host=config.host,
        port=config.port,
        smtp_ssl=config.security == "ssl",
        smtp_starttls=_starttls_option(config),
        smtp_skip_login=not login,
        soft_email_validation=False,
        timeout=config.timeout_seconds,
        **_ssl_keywords(config),
    )
    # yagmail.SMTP() installs a stderr handler on the "yagmail.log" logger;
    # leave records to the application's logging configuration instead.
    client.set_logging(None)
    return client


def _starttls_option(config: SmtpConfig) -> bool | dict[str, ssl.SSLContext]:
    if config.security != "starttls":
        return False
    return {"context": _tls_context(config)}


def _ssl_keywords(config: SmtpConfig) -> dict[str, ssl.SSLContext]:
    if config.security != "ssl":
        return {}
    return {"context": _tls_context(config)}


def _tls_context(config: SmtpConfig) -> ssl.SSLContext:
    """A verifying context; smtplib's default does not check the certificate."""
    cafile = str(config.ca_file) if config.ca_file is not None else None
    return ssl.create_default_context(cafile=cafile)


def _close_half_open(client: Any) -> None:
    smtp = getattr(client, "smtp", None)
    if isinstance(smtp, smtplib.SMTP):
        smtp.close()


def _is_server_reply(error: OSError) -> TypeGuard[smtplib.SMTPException]:
    """An SMTP reply the server sent, as opposed to a connection gone."""
    return isinstance(error, smtplib.SMTPException) and not isinstance(
        error, smtplib.SMTPServerDisconnected
    )


def _describe_error(error: smtplib.SMTPException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        return _reply(error.smtp_code, error.smtp_error)
    return str(error)


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return f"{code} {text}"


def _check_config(config: SmtpConfig) -> None:
    _require(config.host != "", "host", "a host name", config.host)
    _require(0 < config.port < 65536, "port", "1 to 65535", config.port)
    _require(
        config.security in SECURITY_MODES, "security", SECURITY_MODES, config.security
    )
    _require(
        "@" in config.sender,
        "sender",
        "an address like 'channel-ops@example.com'",
        config.sender,
    )
    _require(config.per_second > 0, "per_second", "more than 0", config.per_second)
    _require(
        config.timeout_seconds > 0,
        "timeout_seconds",
        "more than 0",
        config.timeout_seconds,
    )
    if config.user and config.password is None:
        raise ConfigError(
            f"SmtpConfig.password: expected a password for user {config.user!r}, "
            "received none; set it, or leave user unset to send without login "
            "(yagmail would otherwise ask the keyring or prompt on the terminal)"
        )
    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigError(
            f"SmtpConfig.timezone: expected an IANA zone like 'Asia/Shanghai', "
            f"received {config.timezone!r}; install tzdata or fix the name"
        ) from error


def _require(ok: bool, key: str, expected: object, received: object) -> None:
    if not ok:
        raise ConfigError(
            f"SmtpConfig.{key}: expected {expected}, received {received!r}; "
            "fix the mail settings"
        )
