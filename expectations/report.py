"""The gate's verdict and the words around it: results, summary, ops alert.

``GateReport`` holds every check's result for one run. Its ``verdict``
turns them into what the run may do (publish, hold for warnings, block),
``summary_markdown`` is the Prefect artifact, ``alert_lines`` the ops e-mail.
Pure data: nothing here imports Great Expectations.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from expectations.checks import Severity

# Enough failing rows for ops to see the pattern; Data Docs hold the rest.
MAX_SAMPLE_ROWS = 5


class Verdict(StrEnum):
    """What a run may do after the gate."""

    PUBLISH = "publish"
    # Warnings and no override: compute and report, publish and mail nothing.
    HOLD = "hold"
    BLOCK = "block"


@dataclass(frozen=True)
class CheckResult:
    """What one check found. ``success`` is None when it could not be evaluated."""

    name: str
    suite: str
    table: str
    severity: Severity
    success: bool | None
    observed: str
    description: str
    remedy: str
    sample_rows: tuple[str, ...] = ()
    error: str | None = None

    @property
    def status(self) -> str:
        """``pass``, ``fail`` or ``error``."""
        if self.success is None:
            return "error"
        return "pass" if self.success else "fail"


@dataclass(frozen=True)
class GateReport:
    """The gate's results for one quarter, one run."""

    period: str
    run_id: str
    checks: tuple[CheckResult, ...]
    data_docs_index: Path | None = None

    @property
    def passed(self) -> bool:
        """Every blocking check ran and passed (warnings aside)."""
        blocking = [c for c in self.checks if c.severity is Severity.BLOCK]
        return bool(blocking) and not self.blocking_failures

    @property
    def blocking_failures(self) -> tuple[CheckResult, ...]:
        """Blocking checks that failed or could not be evaluated."""
        return tuple(
            check
            for check in self.checks
            if check.severity is Severity.BLOCK and check.success is not True
        )

    @property
    def warnings(self) -> tuple[CheckResult, ...]:
        """Warning checks that failed or could not be evaluated."""
        return tuple(
            check
            for check in self.checks
            if check.severity is Severity.WARN and check.success is not True
        )

    @property
    def suites(self) -> tuple[str, ...]:
        """The suites that ran, in order."""
        return tuple(dict.fromkeys(check.suite for check in self.checks))

    def verdict(self, override_reason: str | None = None) -> Verdict:
        """Block on any blocking failure; hold on warnings unless overridden."""
        if not self.passed:
            return Verdict.BLOCK
        if self.warnings and override_reason is None:
            return Verdict.HOLD
        return Verdict.PUBLISH

    def headline(self) -> str:
        """BLOCKED, PASSED with warnings, or PASSED."""
        if not self.passed:
            return "BLOCKED"
        if self.warnings:
            return "PASSED with warnings"
        return "PASSED"

    def counts_sentence(self) -> str:
        """How many checks ran, passed, blocked and warned."""
        passed = sum(check.success is True for check in self.checks)
        return (
            f"{len(self.checks)} checks in {len(self.suites)} suites: "
            f"{passed} passed, {len(self.blocking_failures)} blocking "
            f"publication, {len(self.warnings)} warning(s)."
        )

    def summary_markdown(self) -> str:
        """The verdict as Markdown, for the Prefect artifact."""
        lines = [
            f"## Data-quality gate {self.period}: {self.headline()}",
            "",
            f"Run `{self.run_id}`. {self.counts_sentence()}",
            "",
            "| Suite | Checks | Passed | Blocking | Warnings |",
            "| --- | --- | --- | --- | --- |",
            *(self._suite_row(suite) for suite in self.suites),
        ]
        lines += _details_section("Blocking failures", self.blocking_failures)
        lines += _details_section("Warnings", self.warnings)
        if self.data_docs_index is not None:
            lines += ["", f"Data Docs: [{self.data_docs_index}]({self._docs_url()})"]
        return "\n".join(lines) + "\n"

    def alert_lines(self) -> list[str]:
        """The ops e-mail: each failing check, its rows and what to do."""
        lines = [
            f"Data-quality gate for {self.period}, run {self.run_id}: "
            f"{self.headline()}.",
            self.counts_sentence(),
        ]
        for title, checks in (
            ("Blocking (cannot be overridden)", self.blocking_failures),
            ("Warnings", self.warnings),
        ):
            for check in checks:
                lines.append(
                    f"{title}: {check.name} ({check.suite}, {check.table}) "
                    f"{check.status}: {check.error or check.observed}. "
                    f"{check.description}"
                )
                lines += [f"  row: {row}" for row in check.sample_rows]
                lines.append(f"  what to do: {check.remedy}")
        if self.data_docs_index is not None:
            lines.append(f"Data Docs: {self._docs_url()}")
        return lines

    def _suite_row(self, suite: str) -> str:
        checks = [check for check in self.checks if check.suite == suite]
        cells = (
            f"`{suite}`",
            str(len(checks)),
            str(sum(check.success is True for check in checks)),
            str(sum(check in self.blocking_failures for check in checks)),
            str(sum(check in self.warnings for check in checks)),
        )
        return "| " + " | ".join(cells) + " |"

    def _docs_url(self) -> str:
        assert self.data_docs_index is not None
        return self.data_docs_index.resolve().as_uri()


def _details_section(title: str, checks: tuple[CheckResult, ...]) -> list[str]:
    if not checks:
        return []
    lines = ["", f"### {title}", ""]
    for check in checks:
        lines.append(
            f"- **{check.name}** ({check.suite}, {check.table}): {check.description}"
        )
        lines.append(f"  - Observed: {check.error or check.observed}")
        lines += [f"  - Row: {_code(row)}" for row in check.sample_rows]
        lines.append(f"  - What to do: {check.remedy}")
    return lines


def _code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"
