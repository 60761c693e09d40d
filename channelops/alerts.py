"""Ops alerts: one call sends an alert by e-mail and to the Feishu group bot.

Every alert is recorded, per channel, in the alert outbox before it is sent:
``<home>/alerts/outbox.sqlite3``, table ``alert_outbox``, under the key
``alert:<caller's key>:<content hash>`` (the caller's key names the kind and
the run or period, such as ``failure:<run id>`` or ``warnings:2026Q3``), with
a status. An alert already delivered under its key is not sent again by a
task retry or a rerun; the same kind and scope with new content is a new
alert. The outbox is a file of its own, not the warehouse's ``ops.outbox``,
because alerts must go out when the warehouse cannot be opened: another run
holds DuckDB, or PostgreSQL is down, which is what the alert is about.

Each channel is rate limited on its own: at most ``alerts_per_hour`` alerts
in any sliding hour, counted across processes in a small state file under
``CHANNELOPS_HOME/alerts`` (a failing nightly and its retries must not flood
the group). An alert over the limit is recorded ``rate_limited`` and not
sent; the next alert that goes out says how many were held back, and the
same alert raised again later is sent then. A failure to deliver is
recorded, logged and reported, never raised: an alert must not turn a run's
real error into a different one. An alert whose connection dropped after
its content went out (``unconfirmed``) is sent again by a retry: for ops, a
second copy with the same Message-ID is better than a missing alert.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from channelops.settings import Settings
from notifications.documents import Recipient, message_id_for
from notifications.feishu import FeishuConfig, FeishuError, post_alert
from notifications.mailer import deliver
from notifications.render import render_ops_alert

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 3600.0
# How long a process waits for another one writing the alert outbox.
OUTBOX_BUSY_SECONDS = 30.0

# What each channel did with an alert, as AlertReport says it.
SENT = "sent"
ALREADY_SENT = "already sent"
RATE_LIMITED = "rate-limited"
OFF = "off"

ALERT_OUTBOX_DDL = """
create table if not exists alert_outbox (
    message_key text not null,
    channel text not null,
    subject text not null,
    content_hash text not null,
    recipient text not null,
    message_id text not null,
    status text not null,
    attempts integer not null,
    last_error text,
    queued_at text not null,
    sent_at text,
    primary key (message_key, channel)
)
"""


@dataclass(frozen=True)
class AlertReport:
    """What happened on each channel: sent, already sent, rate-limited,
    failed: …, unconfirmed: …, or off."""

    email: str
    feishu: str

    @property
    def email_delivered(self) -> bool:
        """The ops mailbox has this alert, from this call or an earlier one."""
        return self.email in (SENT, ALREADY_SENT)


@dataclass(frozen=True)
class Alert:
    """One alert as the channels send it; ``message_key`` is its outbox key."""

    subject: str
    lines: list[str]
    message_key: str
    content_hash: str
    message_id: str


def send_ops_alert(
    settings: Settings, subject: str, lines: list[str], *, key: str
) -> AlertReport:
    """Alert ops by e-mail and, when configured, by the Feishu bot.

    ``key`` names the alert's kind and scope (``failure:<run id>``,
    ``warnings:<period>``); with the content's hash it makes the outbox key,
    so the same alert is delivered once per channel however often it is
    raised.
    """
    digest = hashlib.sha256("\n".join([subject, *lines]).encode()).hexdigest()
    message_key = f"alert:{key}:{digest[:16]}"
    domain = settings.mail_from.rpartition("@")[2] or "channelops.local"
    alert = Alert(
        subject, lines, message_key, digest, message_id_for(message_key, domain)
    )
    folder = settings.home / "alerts"
    limiter = AlertLimiter(folder, settings.alerts_per_hour)
    outbox = AlertOutbox(folder / "outbox.sqlite3")
    email = _through(outbox, limiter, "email", alert, _email(settings))
    if settings.feishu_webhook_url is None:
        feishu = OFF
    else:
        feishu = _through(outbox, limiter, "feishu", alert, _feishu(settings))
    return AlertReport(email, feishu)


class AlertLimiter:
    """A sliding-hour limit per channel, shared by every process on the host."""

    def __init__(self, folder: Path, per_hour: int) -> None:
        self._folder = folder
        self._per_hour = per_hour

    def admit(self, channel: str, now: float | None = None) -> int | None:
        """Held-back count to mention if the alert may go out; None if not."""
        now = time.time() if now is None else now
        with self._state(channel) as state:
            recent = [t for t in state["sent_at"] if now - t < WINDOW_SECONDS]
            if len(recent) >= self._per_hour:
                state["sent_at"] = recent
                state["held_back"] += 1
                return None
            held_back = int(state["held_back"])
            state["sent_at"] = [*recent, now]
            state["held_back"] = 0
            return held_back

    @contextmanager
    def _state(self, channel: str) -> Iterator[dict[str, Any]]:
        self._folder.mkdir(parents=True, exist_ok=True)
        path = self._folder / f"{channel}.json"
        with (self._folder / f"{channel}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                state = json.loads(path.read_text(encoding="utf-8"))
            except (FileNotFoundError, ValueError):
                state = {"sent_at": [], "held_back": 0}
            yield state
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps(state), encoding="utf-8")
            temporary.replace(path)


class AlertOutbox:
    """Each alert's status per channel, in a SQLite file every process shares."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def status(self, message_key: str, channel: str) -> str | None:
        with self._connection() as connection:
            row = connection.execute(
                "select status from alert_outbox where message_key = ? and channel = ?",
                (message_key, channel),
            ).fetchone()
        return None if row is None else str(row[0])

    def record(
        self,
        alert: Alert,
        channel: str,
        recipient: str,
        status: str,
        error: str | None = None,
    ) -> None:
        """Insert the alert for ``channel`` or update its status and attempts."""
        attempted = status not in ("pending", "rate_limited")
        now = _now()
        with self._connection() as connection:
            connection.execute(
                "insert into alert_outbox values "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "on conflict (message_key, channel) do update set "
                "status = excluded.status, "
                "attempts = attempts + excluded.attempts, "
                "last_error = excluded.last_error, "
                "sent_at = excluded.sent_at",
                (
                    alert.message_key,
                    channel,
                    alert.subject,
                    alert.content_hash,
                    recipient,
                    alert.message_id,
                    status,
                    int(attempted),
                    error,
                    now,
                    now if status == "sent" else None,
                ),
            )

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=OUTBOX_BUSY_SECONDS)) as db:
            with db:
                db.execute(ALERT_OUTBOX_DDL)
                yield db


@dataclass(frozen=True)
class Channel:
    """Where one channel delivers, and how; ``send`` returns SENT or why not."""

    recipient: str
    send: Callable[[Alert, list[str]], str]


def _through(
    outbox: AlertOutbox,
    limiter: AlertLimiter,
    name: str,
    alert: Alert,
    channel: Channel,
) -> str:
    if outbox.status(alert.message_key, name) == "sent":
        logger.info(
            "Ops alert %r was already delivered by %s (%s); not sent again",
            alert.subject,
            name,
            alert.message_key,
        )
        return ALREADY_SENT
    held_back = limiter.admit(name)
    if held_back is None:
        outbox.record(alert, name, channel.recipient, "rate_limited")
        logger.warning(
            "Ops alert %r not sent by %s: more than the hourly limit",
            alert.subject,
            name,
        )
        return RATE_LIMITED
    outbox.record(alert, name, channel.recipient, "pending")
    lines = alert.lines
    if held_back:
        lines = [*lines, f"{held_back} earlier alert(s) held back by the rate limit"]
    result = channel.send(alert, lines)
    status, _, error = result.partition(": ")
    outbox.record(alert, name, channel.recipient, status, error or None)
    return result


def _email(settings: Settings) -> Channel:
    def send(alert: Alert, lines: list[str]) -> str:
        # Imported here: the outbox pulls in the warehouse and renderers.
        from channelops.outbox import smtp_config

        message = render_ops_alert(
            alert.subject,
            lines,
            key=alert.message_key,
            message_id=alert.message_id,
            to=(Recipient(settings.ops_email, None, "zh-CN"),),
        )
        outcome: list[str] = []
        with smtp_config(settings) as config:
            deliver(
                [message],
                config,
                on_sent=lambda m: outcome.append(SENT),
                on_failed=lambda m, why: outcome.append(f"failed: {why}"),
                on_unconfirmed=lambda m, why: outcome.append(f"unconfirmed: {why}"),
            )
        result = outcome[0]
        if result == SENT:
            logger.info(
                "Alerted ops by e-mail to %s: %s", settings.ops_email, alert.subject
            )
        else:
            logger.error("Ops alert e-mail not sent (%s): %s", result, alert.subject)
        return result

    return Channel(settings.ops_email, send)


def _feishu(settings: Settings) -> Channel:
    assert settings.feishu_webhook_url is not None
    config = FeishuConfig(
        webhook_url=settings.feishu_webhook_url.get_secret_value(),
        secret=(
            settings.feishu_secret.get_secret_value()
            if settings.feishu_secret is not None
            else None
        ),
    )

    def send(alert: Alert, lines: list[str]) -> str:
        try:
            post_alert(config, alert.subject, lines)
        except FeishuError as error:
            logger.error("Ops alert not posted to Feishu: %s", error)
            return f"failed: {error}"
        return SENT

    # The webhook URL holds the bot's token: the outbox names the channel only.
    return Channel("feishu group bot", send)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
