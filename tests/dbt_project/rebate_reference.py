"""An independent rebate calculator in plain Python, for property tests.

Written from the program rules in docs/rebates.md, not from the SQL: tiers
as (lower, upper, rate, fixed amount), both bandings and both bound
conventions, rounding half away from zero to the fen, and the running
balance with a minimum payout.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

FEN = Decimal("0.01")
ZERO = Decimal("0")


class Tier(NamedTuple):
    lower: Decimal
    upper: Decimal | None
    rate: Decimal
    fixed_amount: Decimal = ZERO


def reached(basis: Decimal, tiers: Sequence[Tier], bounds: str) -> int:
    """Index of the tier a basis falls in; at or below 0 it is the first."""
    if basis <= 0:
        return 0
    for index, tier in enumerate(tiers):
        above = (
            basis >= tier.lower if bounds == "lower_inclusive" else basis > tier.lower
        )
        if tier.upper is None:
            below = True
        elif bounds == "lower_inclusive":
            below = basis < tier.upper
        else:
            below = basis <= tier.upper
        if above and below:
            return index
    raise AssertionError(f"no tier for {basis}")


def unrounded(
    basis: Decimal, tiers: Sequence[Tier], banding: str, bounds: str
) -> Decimal:
    if banding == "retroactive":
        tier = tiers[reached(basis, tiers, bounds)]
        return basis * tier.rate + tier.fixed_amount
    total = ZERO
    for index, tier in enumerate(tiers):
        top = basis if tier.upper is None else min(basis, tier.upper)
        if index > 0:
            top = max(top, tier.lower)
        total += (top - tier.lower) * tier.rate
    return total


def fen(amount: Decimal) -> Decimal:
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def entitlement(
    basis: Decimal, tiers: Sequence[Tier], banding: str, bounds: str
) -> Decimal:
    return fen(unrounded(basis, tiers, banding, bounds))


def settle(
    movements: Sequence[Decimal], minimum: Decimal
) -> list[tuple[Decimal, Decimal, Decimal]]:
    """(carried in, paid, carried out) per quarter."""
    carried = ZERO
    rows = []
    for movement in movements:
        available = carried + movement
        paid = available if available > 0 and available >= minimum else ZERO
        rows.append((carried, paid, available - paid))
        carried = available - paid
    return rows
