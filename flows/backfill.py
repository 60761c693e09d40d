"""Backfill: settle a range of past quarters one after another, oldest first."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from channelops.errors import ChannelopsError
from channelops.periods import Quarter, today_in
from channelops.settings import load_settings
from flows.artifacts import backfill_markdown
from flows.parameters import PartnerSubset, Period, backfill_quarters
from flows.quarterly_settlement import quarterly_settlement
from flows.stages import RunSummary


class BackfillStopped(ChannelopsError):
    """A quarter's statements were held, so the later quarters were not started."""

    def __init__(self, message: str, settled: list[str]) -> None:
        super().__init__(message)
        self.settled = settled


@flow(name="backfill")
def backfill(
    first_period: Period,
    last_period: Period,
    partners: PartnerSubset | None = None,
    dry_run: bool = False,
) -> list[RunSummary]:
    """Settle every quarter from first_period to last_period, in order.

    Each quarter is a settlement run of its own, shown under this run in the
    Prefect UI. A quarter that fails, or whose statements the quality gate's
    warnings hold, stops the backfill, so no later quarter is settled before
    it; deal with that quarter, then start the backfill again after it.

    Args:
        first_period: The oldest quarter to settle, like 2025Q1.
        last_period: The newest quarter to settle, like 2025Q4.
        partners: Only these partners' statements; empty for every partner.
        dry_run: Compute and report each quarter; publish and send nothing.
    """
    today = today_in(load_settings().timezone)
    quarters = backfill_quarters(first_period, last_period, today)
    logger = get_run_logger()
    logger.info(
        "Backfill of %d quarter(s), %s to %s, starts",
        len(quarters),
        quarters[0],
        quarters[-1],
    )
    summaries: list[RunSummary] = []
    runs: list[RunSummary] = []
    failed = False
    try:
        _settle_in_order(quarters, partners, dry_run, summaries, runs)
    except BackfillStopped:
        raise
    except Exception:
        failed = True
        raise
    finally:
        create_markdown_artifact(
            backfill_markdown(quarters, runs, load_settings(), failed=failed),
            key="backfill-summary",
            description=f"channelops backfill {quarters[0]}..{quarters[-1]}",
        )
    return summaries


def _settle_in_order(
    quarters: list[Quarter],
    partners: frozenset[str] | None,
    dry_run: bool,
    summaries: list[RunSummary],
    runs: list[RunSummary],
) -> None:
    """Settle each quarter; stop at one whose statements were held."""
    logger = get_run_logger()
    for quarter in quarters:
        summary = quarterly_settlement(
            period=quarter.label, partners=partners, dry_run=dry_run
        )
        runs.append(summary)
        if summary.held:
            later = quarters[len(summaries) + 1 :]
            raise BackfillStopped(
                f"backfill stopped at {quarter}: the quality gate's warnings held "
                "its statements"
                + (f"; {later[0]}..{later[-1]} were not started" if later else "")
                + f". Settle {quarter} with publish_despite_warnings and a reason, "
                "or fix its input"
                + (f", then backfill from {later[0]}" if later else ""),
                settled=[s.period for s in summaries],
            )
        summaries.append(summary)
        logger.info(
            "Backfill: %s settled (%d of %d)", quarter, len(summaries), len(quarters)
        )
