"""The gate's suites: one per raw input, one per published mart, one reconciling.

``gate_suites`` declares the suites of one run for its ``Scope``;
``expectations.gate`` runs them. ``inputs`` holds the raw-input suites,
``marts`` those of the published marts, ``settlement`` the statement and
ledger reconciliation, ``shape`` the column-type check they share.
"""

from __future__ import annotations

from expectations.checks import Check, Scope, Suite
from expectations.suites.inputs import input_suites
from expectations.suites.marts import mart_suites, monthly_scorecard_suite
from expectations.suites.settlement import settlement_suite

__all__ = ["all_checks", "gate_suites"]


def gate_suites(scope: Scope) -> tuple[Suite, ...]:
    """The suites guarding what the run publishes, inputs first.

    A quarter's run (settlement, nightly) checks the inputs, the quarter's
    marts and the settlement reconciliation. A monthly scorecard run
    (``scope.month`` set) mails only the month's scorecards: it checks the
    inputs and the monthly scorecard mart.
    """
    if scope.month is None:
        suites = (*input_suites(scope), *mart_suites(scope), settlement_suite(scope))
    else:
        suites = (*input_suites(scope), monthly_scorecard_suite(scope))
    names = [check.name for suite in suites for check in suite.checks]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(
            f"gate checks must have unique names, received duplicates {duplicated}; "
            "rename them in expectations/suites"
        )
    return suites


def all_checks(suites: tuple[Suite, ...]) -> tuple[Check, ...]:
    """The suites' checks in declaration order."""
    return tuple(check for suite in suites for check in suite.checks)
