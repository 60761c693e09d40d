"""Ops alerts to a Feishu (Lark) group through its custom bot webhook.

A custom bot with "signature verification" expects each request to carry
``timestamp`` (seconds) and ``sign``: the HMAC-SHA256 of an empty message
keyed with ``"<timestamp>\\n<secret>"``, Base64-encoded, as Feishu's bot guide
describes. The bot answers HTTP 200 with a JSON ``code`` (0 = delivered), so
both are checked. The webhook URL and the secret are secrets: they appear in
no repr, log line or error message (the standard library's client is used
because httpx logs every request URL at INFO).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from channelops.errors import ChannelopsError

logger = logging.getLogger(__name__)


class FeishuError(ChannelopsError):
    """The bot did not take the message; the reason says why, without secrets."""


@dataclass(frozen=True)
class FeishuConfig:
    webhook_url: str = field(repr=False)
    secret: str | None = field(default=None, repr=False)
    timeout_seconds: float = 10.0


def sign(timestamp: int, secret: str) -> str:
    """Feishu's signature for ``timestamp`` (epoch seconds) and ``secret``."""
    key = f"{timestamp}\n{secret}".encode()
    digest = hmac.new(key, b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def post_alert(
    config: FeishuConfig, title: str, lines: list[str], *, now: float | None = None
) -> None:
    """Post one alert as a rich-text ("post") message; raise FeishuError if refused."""
    body: dict[str, object] = {
        "msg_type": "post",
        "content": {
            "post": {
                "zh_cn": {
                    "title": title,
                    "content": [[{"tag": "text", "text": line}] for line in lines],
                }
            }
        },
    }
    if config.secret:
        timestamp = int(time.time() if now is None else now)
        body["timestamp"] = str(timestamp)
        body["sign"] = sign(timestamp, config.secret)
    request = urllib.request.Request(
        config.webhook_url,
        data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=config.timeout_seconds) as reply:
            _check_reply(reply.status, reply.read())
    except urllib.error.HTTPError as error:
        _check_reply(error.code, error.read())
    except (urllib.error.URLError, OSError) as error:
        # Errors can name the URL, and the URL holds the bot's token.
        raise FeishuError(
            f"Feishu bot unreachable ({type(error).__name__}); check the "
            "network and CHANNELOPS_FEISHU_WEBHOOK_URL"
        ) from None
    logger.info("Posted ops alert to Feishu: %s (%d line(s))", title, len(lines))


def _check_reply(status: int, data: bytes) -> None:
    try:
        reply = json.loads(data)
    except ValueError:
        reply = None
    if not isinstance(reply, dict):
        reply = {}
    # Older bot versions answer StatusCode/StatusMessage instead of code/msg.
    code = reply.get("code", reply.get("StatusCode"))
    if status == 200 and code == 0:
        return
    message = reply.get("msg", reply.get("StatusMessage", ""))
    raise FeishuError(
        f"Feishu bot refused the alert: HTTP {status}, code {code!r}, "
        f"{message!r}; code 19021 means a wrong secret or a clock more than "
        "an hour off, 9499 too many messages"
    )
