"""A local stand-in for a Feishu custom bot: checks signatures as Feishu does."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "0f1e2d3c-token-in-the-url"
SECRET = "s3cr3t-sign-key"


@dataclass
class FeishuBot:
    url: str
    secret: str | None
    received: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def feishu_bot(secret: str | None = SECRET) -> Iterator[FeishuBot]:
    """A real HTTP server on 127.0.0.1 answering like the bot webhook."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    bot = FeishuBot(
        f"http://127.0.0.1:{server.server_port}/open-apis/bot/v2/hook/{TOKEN}", secret
    )
    server.bot = bot  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield bot
    finally:
        server.shutdown()
        server.server_close()


def expected_sign(timestamp: str, secret: str) -> str:
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        bot: FeishuBot = self.server.bot  # type: ignore[attr-defined]
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if not self.path.endswith(TOKEN):
            self._answer(
                404,
                {
                    "code": 19001,
                    "msg": "param invalid: incoming webhook access token invalid",
                },
            )
            return
        if bot.secret is not None:
            timestamp = body.get("timestamp", "0")
            fresh = abs(time.time() - int(timestamp)) < 3600
            if not fresh or body.get("sign") != expected_sign(timestamp, bot.secret):
                self._answer(
                    200,
                    {
                        "code": 19021,
                        "msg": "sign match fail or timestamp is not within one hour "
                        "from current time",
                    },
                )
                return
        bot.received.append(body)
        self._answer(200, {"code": 0, "msg": "success", "data": {}})

    def _answer(self, status: int, reply: dict[str, Any]) -> None:
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""
