"""Fixtures of the flow tests: a real Prefect API and a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _prefect(request: pytest.FixtureRequest) -> None:
    """Every test marked ``prefect`` talks to the session's real Prefect API."""
    if request.node.get_closest_marker("prefect") is not None:
        request.getfixturevalue("prefect_api")


@pytest.fixture
def mail_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A real SMTP server on 127.0.0.1 that keeps every message as .eml."""
    from notifications.sink import MailSink

    received = tmp_path / "received"
    with MailSink(received) as sink:
        monkeypatch.setenv("CHANNELOPS_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("CHANNELOPS_SMTP_PORT", str(sink.port))
        yield received
