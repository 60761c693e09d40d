"""Every gate check as the operator's reference lists it (docs/gate.md).

Rendered from the suite declarations themselves, for an example quarter and
the default thresholds, so the reference cannot drift from the code; a test
compares it with the committed docs. ``channelops gate-checks`` prints it.
"""

from __future__ import annotations

from datetime import date

from channelops.periods import Month, Quarter
from expectations.checks import Scope, Suite
from expectations.suites import gate_suites

EXAMPLE_SCOPE = Scope(period=Quarter(2026, 3), currency="CNY", today=date(2026, 10, 15))
EXAMPLE_MONTH_SCOPE = Scope.for_month(Month(2026, 9), "CNY", date(2026, 10, 15))

_KIND_TITLES = {
    "input": "Raw input",
    "mart": "Published mart",
    "reconciliation": "Reconciliation",
}


def catalog_markdown(
    scope: Scope = EXAMPLE_SCOPE, month_scope: Scope = EXAMPLE_MONTH_SCOPE
) -> str:
    """One table per suite: check, severity, what it checks, what to do.

    The quarter's suites first, then the suites only a monthly scorecard run
    adds (it runs the same input suites).
    """
    suites = gate_suites(scope)
    names = {suite.name for suite in suites}
    monthly = tuple(s for s in gate_suites(month_scope) if s.name not in names)
    lines = [
        f"{sum(len(s.checks) for s in suites)} checks in {len(suites)} suites, "
        f"shown for the example period {scope.label} in {scope.currency}, run "
        f"on {scope.today.isoformat()}, with the default thresholds.",
    ]
    for suite in suites:
        lines += _suite_section(suite)
    lines += [
        "",
        f"The monthly scorecard run (shown for {month_scope.run_label}) runs "
        "the raw-input suites above, up to the month's end, and instead of "
        "the quarter's marts and reconciliation "
        f"{sum(len(s.checks) for s in monthly)} checks on what it mails:",
    ]
    for suite in monthly:
        lines += _suite_section(suite)
    return "\n".join(lines) + "\n"


def _suite_section(suite: Suite) -> list[str]:
    lines = [
        "",
        f"### {_KIND_TITLES[suite.kind]} `{suite.name}` ({suite.guards})",
        "",
        "| check | severity | passes when | when it fails |",
        "|---|---|---|---|",
    ]
    for check in suite.checks:
        cells = (
            f"`{check.name}`",
            check.severity.value,
            check.description,
            check.remedy,
        )
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
