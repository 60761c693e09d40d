"""Ops alerts: one call sends an alert by e-mail and to the Feishu group bot.

Each channel is rate limited on its own: at most ``alerts_per_hour`` alerts
in any sliding hour, counted across processes in a small state file under
``CHANNELOPS_HOME/alerts`` (a failing nightly and its retries must not flood
the group). An alert over the limit is not sent but counted; the next alert
that goes out says how many were held back, so nothing is silently lost.
A failure to deliver is logged and reported, never raised: an alert must not
turn a run's real error into a different one.
"""

from __future__ import annotations

import fcntl
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from channelops.settings import Settings
from notifications.documents import Recipient, message_id_for
from notifications.feishu import FeishuConfig, FeishuError, post_alert
from notifications.mailer import deliver
from notifications.render import render_ops_alert

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 3600.0


@dataclass(frozen=True)
class AlertReport:
    """What happened on each channel: sent, rate-limited, failed: …, or off."""

    email: str
    feishu: str


def send_ops_alert(
    settings: Settings, subject: str, lines: list[str], *, key: str
) -> AlertReport:
    """Alert ops by e-mail and, when configured, by the Feishu bot."""
    limiter = AlertLimiter(settings.home / "alerts", settings.alerts_per_hour)
    email = _through(limiter, "email", subject, lines, _email(settings, key))
    if settings.feishu_webhook_url is None:
        feishu = "off"
    else:
        feishu = _through(limiter, "feishu", subject, lines, _feishu(settings))
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


Channel = Callable[[str, list[str]], str]


def _through(
    limiter: AlertLimiter, channel: str, subject: str, lines: list[str], send: Channel
) -> str:
    held_back = limiter.admit(channel)
    if held_back is None:
        logger.warning(
            "Ops alert %r not sent by %s: more than the hourly limit", subject, channel
        )
        return "rate-limited"
    if held_back:
        lines = [*lines, f"{held_back} earlier alert(s) held back by the rate limit"]
    return send(subject, lines)


def _email(settings: Settings, key: str) -> Channel:
    def send(subject: str, lines: list[str]) -> str:
        # Imported here: the outbox pulls in the warehouse and renderers.
        from channelops.outbox import smtp_config

        message = render_ops_alert(
            subject,
            lines,
            key=key,
            message_id=message_id_for(key, settings.mail_from.rpartition("@")[2]),
            to=(Recipient(settings.ops_email, None, "zh-CN"),),
        )
        outcome: list[str] = []
        with smtp_config(settings) as config:
            deliver(
                [message],
                config,
                on_sent=lambda m: outcome.append("sent"),
                on_failed=lambda m, why: outcome.append(f"failed: {why}"),
            )
        result = outcome[0]
        if result == "sent":
            logger.info("Alerted ops by e-mail to %s: %s", settings.ops_email, subject)
        else:
            logger.error("Ops alert e-mail not sent (%s): %s", result, subject)
        return result

    return send


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

    def send(subject: str, lines: list[str]) -> str:
        try:
            post_alert(config, subject, lines)
        except FeishuError as error:
            logger.error("Ops alert not posted to Feishu: %s", error)
            return f"failed: {error}"
        return "sent"

    return send
