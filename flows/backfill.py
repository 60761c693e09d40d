"""Backfill: settle a range of past quarters one after another, oldest first."""

from __future__ import annotations

from prefect import flow, get_run_logger

from flows.parameters import PartnerSubset, Period, backfill_quarters
from flows.quarterly_settlement import quarterly_settlement
from flows.stages import RunSummary


@flow(name="backfill")
def backfill(
    first_period: Period,
    last_period: Period,
    partners: PartnerSubset | None = None,
    dry_run: bool = False,
) -> list[RunSummary]:
    """Settle every quarter from first_period to last_period, in order.

    Each quarter is a settlement run of its own, shown under this run in the
    Prefect UI. A quarter that fails stops the backfill, so no later quarter
    is settled on top of it; fix it and start the backfill again from there.

    Args:
        first_period: The oldest quarter to settle, like 2025Q1.
        last_period: The newest quarter to settle, like 2025Q4.
        partners: Only these partners' statements; empty for every partner.
        dry_run: Compute and report each quarter; publish and send nothing.
    """
    quarters = backfill_quarters(first_period, last_period)
    logger = get_run_logger()
    logger.info(
        "Backfill of %d quarter(s), %s to %s, starts",
        len(quarters),
        quarters[0],
        quarters[-1],
    )
    summaries = []
    for quarter in quarters:
        summary = quarterly_settlement(
            period=quarter.label, partners=partners, dry_run=dry_run
        )
        summaries.append(summary)
        logger.info(
            "Backfill: %s settled (%d of %d)", quarter, len(summaries), len(quarters)
        )
    return summaries
