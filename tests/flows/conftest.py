"""A real Prefect API for the flow tests, started once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from channelops.settings import apply_prefect_defaults

# The temporary API takes 20-36 s to start on 2 cores.
PREFECT_STARTUP_SECONDS = 120


@pytest.fixture(scope="session", autouse=True)
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    apply_prefect_defaults()
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=PREFECT_STARTUP_SECONDS):
        yield


@pytest.fixture
def mail_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A real SMTP server on 127.0.0.1 that keeps every message as .eml."""
    from notifications.sink import MailSink

    received = tmp_path / "received"
    with MailSink(received) as sink:
        monkeypatch.setenv("CHANNELOPS_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("CHANNELOPS_SMTP_PORT", str(sink.port))
        yield received
