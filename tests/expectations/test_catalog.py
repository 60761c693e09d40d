"""The check reference: docs/gate.md lists exactly the declared checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from channelops.cli import app
from channelops.settings import DEFAULT_CONFIG_DIR
from expectations.catalog import EXAMPLE_MONTH_SCOPE, EXAMPLE_SCOPE, catalog_markdown
from expectations.suites import all_checks, gate_suites
from tests.conftest import REPO

GATE_DOC = REPO / "docs" / "gate.md"
START, END = "<!-- checks:start -->\n", "<!-- checks:end -->"

runner = CliRunner()


def test_docs_should_list_the_checks_as_declared() -> None:
    text = GATE_DOC.read_text(encoding="utf-8")
    listed = text[text.index(START) + len(START) : text.index(END)]

    assert listed == catalog_markdown(), (
        "docs/gate.md is stale: replace the part between the markers with the "
        "output of `channelops gate-checks`"
    )


def test_every_check_should_appear_once_with_severity_and_remedy() -> None:
    catalog = catalog_markdown()

    checks = {
        check.name: check
        for scope in (EXAMPLE_SCOPE, EXAMPLE_MONTH_SCOPE)
        for check in all_checks(gate_suites(scope))
    }
    for check in checks.values():
        row = f"| `{check.name}` | {check.severity.value} | "
        assert catalog.count(row) == 1, check.name
        assert check.remedy.replace("|", "\\|") in catalog


def test_cli_should_print_the_catalog() -> None:
    result = runner.invoke(app, ["gate-checks"])

    assert result.exit_code == 0
    assert result.output == catalog_markdown()


def test_check_config_should_reject_a_bad_gate_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, config)
    (config / "gate.yml").write_text("collapse_ratio: 2\n", encoding="utf-8")
    monkeypatch.setenv("CHANNELOPS_CONFIG_DIR", str(config))

    result = runner.invoke(app, ["check-config"])

    assert result.exit_code == 1
    assert "gate.yml: collapse_ratio:" in result.output
