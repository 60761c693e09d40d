"""The channelops command as a user runs it."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from channelops.cli import app

runner = CliRunner()


def test_help_lists_the_commands_without_importing_the_stack() -> None:
    result = runner.invoke(app, ["--help"])

    assert result.exit_code == 0
    commands = ("demo", "nightly", "settle", "backfill", "resend", "ops", "contract")
    for command in (*commands, "check-config"):
        assert command in result.output


def test_check_config_accepts_the_bundled_configuration() -> None:
    result = runner.invoke(app, ["check-config"])

    assert result.exit_code == 0, result.output
    assert "is valid" in result.output


def test_check_config_names_the_file_of_a_bad_program(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    (config / "programs").mkdir(parents=True)
    (config / "sources").mkdir()
    repo_config = Path(__file__).resolve().parents[2] / "config"
    (config / "sources" / "demo.yml").write_text(
        (repo_config / "sources" / "demo.yml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    (config / "scorecard.yml").write_text(
        (repo_config / "scorecard.yml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (config / "programs" / "broken.yml").write_text(
        "program_id: broken\nname: x\nversion: 1\neffective_from: 2025-01-01\n"
        "calculation: retroactive\ntiers:\n  - {name: a, from: 0, to: 10, rate: 0.1}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("CHANNELOPS_CONFIG_DIR", str(config))

    result = runner.invoke(app, ["check-config"])

    assert result.exit_code == 1
    assert "broken.yml" in result.output
    assert "tiers.0.to" in result.output


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_api")
def test_demo_mails_each_partner_only_its_own_statement(
    isolated_settings: Path,
) -> None:
    result = runner.invoke(app, ["demo", "--partners", "12"])

    assert result.exit_code == 0, result.output
    assert "Demo settled 2026Q3" in result.output
    messages = sorted((isolated_settings / "outbox").glob("*.eml"))
    assert messages
    for path in messages:
        message = email.message_from_bytes(
            path.read_bytes(), policy=email.policy.default
        )
        domains = set(re.findall(r"@p(\d{4})\.example", str(message["To"])))
        assert len(domains) == 1, message["To"]
        own = f"P{domains.pop()}"
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        text = str(body.get_content())
        assert set(re.findall(r"P\d{4}", text)) == {own}
        assert own in str(message["Subject"]) or own in text


def test_ops_status_without_a_stack_says_so_and_fails(isolated_settings: Path) -> None:
    result = runner.invoke(app, ["ops", "status"])

    assert result.exit_code == 1
    assert f"No ops stack recorded in {isolated_settings / 'ops'}" in result.output


def test_ops_up_refuses_a_database_prefect_cannot_use() -> None:
    result = runner.invoke(app, ["ops", "up", "--database", "mysql://root@db/x"])

    assert result.exit_code == 1
    assert "Ops stack not started" in result.output
    assert "'mysql://root@db/x'" in result.output
