"""An embedded SMTP server that files every message it receives as ``.eml``.

The default mail server for local runs and the one the tests talk to: a real
aiosmtpd listener (127.0.0.1, an ephemeral port unless told otherwise) that
writes each message, byte for byte as received, into an outbox folder. Each
file is written to a temporary name and renamed, so a reader never sees half a
message, and its name carries the time, a sequence number, the Message-ID and
a hash of the bytes, so separate runs filing into one folder never collide.

For tests it can refuse chosen recipients, drop the connection right after
storing a chosen message and before replying (the at-least-once window a real
relay can open), drop it after receiving a message without storing it (a
relay that lost the message: the sender cannot tell the two apart), or close
it right after replying (a relay recycling its connections). It can require
a login, over STARTTLS or, for a relay on a trusted host, on the plain
connection, and records who logged in.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import socket
import ssl
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

logger = logging.getLogger(__name__)

# Sent in the greeting; a fixed name spares aiosmtpd a socket.getfqdn() lookup,
# which can stall for seconds on a machine without DNS.
SERVER_NAME = "channelops-sink"

# How long start() waits for the listener to answer its own probe.
PROBE_TIMEOUT_SECONDS = 5.0

# Message-ID characters kept in a file name; the rest become "-".
_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_MESSAGE_ID_IN_NAME = 64


@dataclass(frozen=True)
class SunkMessage:
    """A message the sink stored, with its SMTP envelope."""

    path: Path
    mail_from: str
    rcpt_tos: tuple[str, ...]


class MailSink:
    """A local SMTP server that stores every message in ``outbox_dir``.

    Use as a context manager; ``port`` is the bound port once started.
    ``drop_after=N`` (or several numbers) closes the connection without a
    reply right after storing message N, counted over the sink's life;
    ``lose=N`` closes it without a reply and without storing the N-th
    message received (every message received counts, stored or lost);
    ``refuse`` lists recipient addresses answered with 550. ``tls_context``
    offers (and requires) STARTTLS; ``logins`` (user to password) then
    requires AUTH with one of them.
    """

    def __init__(
        self,
        outbox_dir: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        drop_after: int | Iterable[int] = (),
        close_after: int | Iterable[int] = (),
        lose: int | Iterable[int] = (),
        refuse: Iterable[str] = (),
        tls_context: ssl.SSLContext | None = None,
        logins: Mapping[str, str] | None = None,
        login_without_tls: bool = False,
    ) -> None:
        self.outbox_dir = outbox_dir
        self._password_check = _PasswordCheck(logins or {})
        self._handler = _OutboxHandler(
            outbox_dir,
            drop_after=drop_after,
            close_after=close_after,
            lose=lose,
            refuse=refuse,
            require_login=bool(logins) and login_without_tls,
        )
        self._controller = _SinkController(
            self._handler,
            hostname=host,
            port=port,
            server_hostname=SERVER_NAME,
            ready_timeout=PROBE_TIMEOUT_SECONDS,
            tls_context=tls_context,
            require_starttls=tls_context is not None,
            **_auth_options(self._password_check, tls_context, login_without_tls),
        )

    @property
    def host(self) -> str:
        return self._controller.hostname

    @property
    def port(self) -> int:
        return self._controller.port

    @property
    def connections(self) -> int:
        """SMTP connections accepted so far."""
        return self._handler.connections

    @property
    def logged_in(self) -> list[str]:
        """The users that logged in so far, one entry per successful AUTH."""
        return self._password_check.logged_in()

    @property
    def messages(self) -> list[SunkMessage]:
        """The messages stored so far, in arrival order."""
        return self._handler.stored()

    def start(self) -> None:
        self.outbox_dir.mkdir(parents=True, exist_ok=True)
        self._controller.start()
        self._handler.connections = 0
        logger.info(
            "mail sink listening on %s:%d, filing into %s",
            self.host,
            self.port,
            self.outbox_dir,
        )

    def stop(self) -> None:
        self._controller.stop()
        logger.info(
            "mail sink on port %d stopped after %d messages",
            self.port,
            len(self.messages),
        )

    def __enter__(self) -> MailSink:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class _SinkController(Controller):
    """aiosmtpd's threaded controller, fixed for ephemeral ports."""

    def factory(self) -> SMTP:
        # Called once per accepted connection.
        self.handler.connections += 1
        # Passing the loop skips aiosmtpd's own loop lookup, which swaps the
        # process-wide warning filters from the server thread on every
        # connection.
        return SMTP(self.handler, loop=self.loop, **self.SMTP_kwargs)

    def _trigger_server(self) -> None:
        # aiosmtpd probes self.port, still 0 when the OS picked the port
        # (aio-libs/aiosmtpd#276): read the bound port first.
        server = self.server
        if not isinstance(server, asyncio.Server) or not server.sockets:
            raise RuntimeError(
                f"mail sink: expected a listening server on {self.hostname}, "
                f"received {server!r}; check that the address can be bound"
            )
        self.port = server.sockets[0].getsockname()[1]
        address = (self.hostname, self.port)
        with socket.create_connection(address, PROBE_TIMEOUT_SECONDS) as probe:
            probe.recv(1024)


class _OutboxHandler:
    """aiosmtpd hooks: refuse listed recipients, store each message."""

    def __init__(
        self,
        outbox_dir: Path,
        *,
        drop_after: int | Iterable[int],
        close_after: int | Iterable[int],
        lose: int | Iterable[int],
        refuse: Iterable[str],
        require_login: bool = False,
    ) -> None:
        self._outbox_dir = outbox_dir
        self._require_login = require_login
        self._drop_after = _numbers(drop_after)
        self._close_after = _numbers(close_after)
        self._lose = _numbers(lose)
        self._received = 0
        self._refuse = frozenset(address.lower() for address in refuse)
        self._lock = threading.Lock()
        self._stored: list[SunkMessage] = []
        # The readiness probe counts too; start() takes it off.
        self.connections = 0

    def stored(self) -> list[SunkMessage]:
        with self._lock:
            return list(self._stored)

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        # aiosmtpd's own auth_required, without TLS, warns on every
        # connection; the same refusal is made here instead.
        if self._require_login and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address.lower() in self._refuse:
            return f"550 5.1.1 <{address}>: recipient refused by the mail sink"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or b""
        with self._lock:
            self._received += 1
            lost = self._received in self._lose
        if lost and server.transport is not None:
            logger.info(
                "mail sink loses message %d: drops the connection without "
                "storing it or replying",
                self._received,
            )
            server.transport.close()
            return "451 4.3.0 lost by the mail sink"
        with self._lock:
            sequence = len(self._stored) + 1
            try:
                path = store_message(self._outbox_dir, sequence, content)
            except OSError as error:
                logger.error("mail sink cannot store a message: %s", error)
                return f"451 4.3.0 mail sink cannot store the message: {error}"
            self._stored.append(
                SunkMessage(path, envelope.mail_from or "", tuple(envelope.rcpt_tos))
            )
        logger.debug(
            "mail sink stored message %d (%d bytes, %d recipients) as %s",
            sequence,
            len(content),
            len(envelope.rcpt_tos),
            path.name,
        )
        if sequence in self._drop_after and server.transport is not None:
            logger.info("mail sink drops the connection without replying")
            server.transport.close()
        elif sequence in self._close_after and server.transport is not None:
            # Runs after the reply below is written: a clean close between
            # messages, as a relay limiting messages per connection does.
            logger.info("mail sink closes the connection after replying")
            server.loop.call_soon(server.transport.close)
        return "250 OK: stored"


def _numbers(chosen: int | Iterable[int]) -> frozenset[int]:
    return frozenset((chosen,) if isinstance(chosen, int) else chosen)


class _PasswordCheck:
    """aiosmtpd authenticator accepting the configured user/password pairs."""

    def __init__(self, logins: Mapping[str, str]) -> None:
        self._logins = dict(logins)
        self._lock = threading.Lock()
        self._logged_in: list[str] = []

    def has_logins(self) -> bool:
        return bool(self._logins)

    def logged_in(self) -> list[str]:
        with self._lock:
            return list(self._logged_in)

    def __call__(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: object,
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            user = auth_data.login.decode("utf-8", errors="replace")
            password = auth_data.password.decode("utf-8", errors="replace")
            if self._logins.get(user) == password:
                with self._lock:
                    self._logged_in.append(user)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


def _auth_options(
    check: _PasswordCheck,
    tls_context: ssl.SSLContext | None,
    login_without_tls: bool,
) -> dict[str, Any]:
    if not check.has_logins():
        return {}
    if tls_context is not None:
        return {"authenticator": check, "auth_required": True}
    if login_without_tls:
        # The handler's MAIL hook refuses a session that did not log in.
        return {"authenticator": check, "auth_require_tls": False}
    raise ValueError(
        "mail sink: logins need a tls_context, received none; pass the "
        "server's SSLContext so AUTH runs after STARTTLS, or "
        "login_without_tls=True for a sink on 127.0.0.1"
    )


def store_message(outbox_dir: Path, sequence: int, content: bytes) -> Path:
    """Write ``content`` to a new ``.eml`` file atomically; return its path."""
    path = outbox_dir / _file_name(sequence, content)
    descriptor, temporary = tempfile.mkstemp(
        dir=outbox_dir, prefix=".incoming-", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _file_name(sequence: int, content: bytes) -> str:
    received_at = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    digest = hashlib.sha256(content).hexdigest()[:12]
    return f"{received_at}_{sequence:06d}_{_message_id_part(content)}_{digest}.eml"


def _message_id_part(content: bytes) -> str:
    headers = BytesParser(policy=compat32).parsebytes(content, headersonly=True)
    message_id = str(headers.get("Message-ID", "")).strip().strip("<>")
    cleaned = _UNSAFE_IN_NAME.sub("-", message_id).strip("-.")
    return cleaned[:_MESSAGE_ID_IN_NAME] or "no-message-id"
