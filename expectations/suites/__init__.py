"""The gate's suites: one per raw input, one per published mart, one reconciling.

``gate_suites`` declares them all for one ``Scope``; ``expectations.gate``
runs them. ``inputs`` holds the raw-input suites, ``marts`` those of the
published marts, ``settlement`` the statement and ledger reconciliation,
``shape`` the column-type check they share.
"""

from __future__ import annotations

from expectations.checks import Check, Scope, Suite
from expectations.suites.inputs import input_suites
from expectations.suites.marts import mart_suites
from expectations.suites.settlement import settlement_suite

__all__ = ["all_checks", "gate_suites"]


def gate_suites(scope: Scope) -> tuple[Suite, ...]:
    """Every suite of the gate, inputs first, then marts, then reconciliation."""
    suites = (*input_suites(scope), *mart_suites(scope), settlement_suite(scope))
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
