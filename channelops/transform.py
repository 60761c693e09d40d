"""The transform stage: load the rules, then build and test the dbt models.

dbt runs in a subprocess so that its DuckDB connection is closed when it
returns (dbt-duckdb keeps it open in-process) and a crash in dbt cannot take
the run's own state with it.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from channelops.errors import ChannelopsError
from channelops.rules import (
    load_adjustments,
    load_programs,
    load_scorecard,
    rule_file_digests,
    write_rules,
)
from channelops.settings import Settings
from channelops.warehouse import Warehouse

logger = logging.getLogger(__name__)


class TransformFailed(ChannelopsError):
    """dbt could not build the models or one of their tests failed."""


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    status: str
    message: str | None
    failures: int | None


@dataclass(frozen=True)
class TransformReport:
    models_built: int
    tests_passed: int
    problems: tuple[NodeResult, ...]


def load_rules(settings: Settings, warehouse: Warehouse) -> None:
    """Validate the rule files and write them to the warehouse's config schema."""
    programs = load_programs(settings.config_dir)
    scorecard = load_scorecard(settings.config_dir)
    adjustments = load_adjustments(settings.config_dir)
    write_rules(
        warehouse,
        programs,
        scorecard,
        adjustments,
        rule_file_digests(settings.config_dir),
    )
    logger.info(
        "Loaded rules: %d rebate program(s) (%s), %d manual adjustment(s) "
        "(%d approved), %d scorecard metric(s)",
        len(programs),
        ", ".join(f"{p.program_id} v{p.version}" for p in programs),
        len(adjustments),
        sum(a.approval == "approved" for a in adjustments),
        len(scorecard.metrics),
    )


def dbt_executable() -> str:
    return str(Path(sys.executable).with_name("dbt"))


def run_dbt(settings: Settings, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run one dbt command against this environment's target."""
    work = settings.dbt_work_dir
    work.mkdir(parents=True, exist_ok=True)
    command = [
        dbt_executable(),
        *arguments,
        "--project-dir",
        str(settings.dbt_dir),
        "--profiles-dir",
        str(settings.dbt_dir),
        "--target",
        settings.dbt_target,
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    return subprocess.run(
        command,
        env=settings.dbt_env(),
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )


# dbt unit tests check the models' SQL on fixed rows, not the data: they
# belong to the test suite (tests/dbt_project/test_unit_tests.py runs them
# on both engines), not to every run, where they were 40 % of a demo build.
RUN_EXCLUDES = ("--exclude-resource-type", "unit_test")


def build_models(settings: Settings) -> TransformReport:
    """``dbt build``: every model, then its data tests; raise if any node failed."""
    completed = run_dbt(settings, "build", *RUN_EXCLUDES, "--no-use-colors")
    results_path = settings.dbt_work_dir / "target" / "run_results.json"
    if not results_path.exists():
        raise TransformFailed(
            "dbt build did not run (no run_results.json); its output ends:\n"
            + _tail(completed.stdout + completed.stderr)
        )
    report = _read_results(results_path)
    if completed.returncode != 0 or report.problems:
        details = "; ".join(
            f"{p.unique_id}: {p.status}"
            + (f" ({p.failures} failing rows)" if p.failures else "")
            + (f" {p.message}" if p.message else "")
            for p in report.problems
        )
        raise TransformFailed(
            f"dbt build failed: {details or 'see output'}; fix the model or "
            "the input and rerun. Output ends:\n"
            + _tail(completed.stdout + completed.stderr)
        )
    logger.info(
        "dbt build on target %s: %d model(s) built, %d test(s) passed",
        settings.dbt_target,
        report.models_built,
        report.tests_passed,
    )
    return report


def _read_results(path: Path) -> TransformReport:
    results = json.loads(path.read_text(encoding="utf-8"))["results"]
    nodes = [
        NodeResult(r["unique_id"], r["status"], r.get("message"), r.get("failures"))
        for r in results
    ]
    return TransformReport(
        models_built=sum(
            n.unique_id.startswith("model.") and n.status == "success" for n in nodes
        ),
        tests_passed=sum(
            n.unique_id.startswith(("test.", "unit_test.")) and n.status == "pass"
            for n in nodes
        ),
        problems=tuple(
            n for n in nodes if n.status in ("error", "fail", "runtime error")
        ),
    )


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
