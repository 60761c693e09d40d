"""Around every run: the lock, the ops alert with stage and remedy."""

from __future__ import annotations

import email
import email.policy
import threading
from pathlib import Path

import pytest

from channelops.errors import InputError, WarehouseBusy
from channelops.settings import load_settings
from channelops.warehouse import warehouse_lock
from flows.resend_statement import resend_statement
from flows.run_context import SETTLEMENT_STAGES, advice, failed_stage, run_link
from flows.stages import RunSummary

# The other run holds the lock far longer than the waiting run waits.
HOLD_SECONDS = 120.0


def test_the_failed_stage_should_be_the_first_one_not_finished() -> None:
    summary = RunSummary("quarterly_settlement", "2026Q3", "run-1")
    assert failed_stage(summary, SETTLEMENT_STAGES) == "pull files"

    summary.pull = object()  # type: ignore[assignment]
    summary.transform = object()  # type: ignore[assignment]
    assert failed_stage(summary, SETTLEMENT_STAGES) == "check data quality"


def test_advice_should_tell_a_data_error_from_a_busy_warehouse() -> None:
    assert advice(InputError("sales.csv: no such column")).startswith("Fix what")
    assert advice(WarehouseBusy("held")).startswith("Nothing was changed")
    assert advice(ConnectionResetError("relay")).startswith("The retries")
    assert "not a known data problem" in advice(KeyError("x"))


def test_an_alert_should_link_the_run_only_when_a_ui_is_configured() -> None:
    # What Prefect's runtime gives with PREFECT_UI_URL unset (a command-line
    # run on a temporary API) and with it set (the ops stack).
    assert run_link("None/flow-runs/flow-run/2676ac92") is None
    assert run_link(None) is None
    link = "http://127.0.0.1:4200/flow-runs/flow-run/2676ac92"
    assert run_link(link) == link


@pytest.mark.prefect
def test_a_run_that_cannot_get_the_warehouse_alerts_ops_and_changes_nothing(
    isolated_settings: Path, monkeypatch: pytest.MonkeyPatch, mail_server: Path
) -> None:
    monkeypatch.setenv("CHANNELOPS_LOCK_WAIT_SECONDS", "0.5")
    taken, release = threading.Event(), threading.Event()

    def other_run() -> None:
        with warehouse_lock(load_settings(), holder="nightly 2026Q4 run other"):
            taken.set()
            release.wait(HOLD_SECONDS)

    holder = threading.Thread(target=other_run)
    holder.start()
    taken.wait(HOLD_SECONDS)
    try:
        with pytest.raises(WarehouseBusy, match="nightly 2026Q4 run other"):
            resend_statement(
                period="2026Q3", partner_id="P0001", version=1, request="OPS-9"
            )
    finally:
        release.set()
        holder.join(HOLD_SECONDS)

    [path] = mail_server.glob("*.eml")
    alert = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    body = alert.get_body(preferencelist=("plain",))
    assert body is not None
    text = str(body.get_content())
    assert "Stage: wait for the warehouse" in text
    assert "What to do: Nothing was changed" in text
    assert not (isolated_settings / "warehouse.duckdb").exists()
