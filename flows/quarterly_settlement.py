"""Quarterly settlement: the nightly stages, then statements published and mailed."""

from __future__ import annotations

from datetime import date

from prefect import flow

from channelops.periods import Quarter, last_closed_quarter, today_in
from channelops.settings import load_settings
from channelops.warehouse import warehouse_lock
from flows.run_context import alerting_ops, current_run_id
from flows.stages import (
    RunSummary,
    block_on_gate,
    check_quality,
    publish,
    publish_scorecards,
    publish_summary,
    pull_files,
    queue,
    send,
    transform,
)


@flow(name="quarterly_settlement")
def quarterly_settlement(
    period: str | None = None,
    as_of: date | None = None,
    dry_run: bool = False,
    publish_despite_warnings: str | None = None,
) -> RunSummary:
    """Settle ``period`` (default: the last quarter closed before ``as_of``).

    With ``dry_run`` the statements are computed and reported but nothing is
    published or sent; the same happens when the gate warns, unless
    ``publish_despite_warnings`` gives the reason to publish anyway.
    """
    settings = load_settings()
    quarter = (
        Quarter.parse(period)
        if period
        else last_closed_quarter(as_of or today_in(settings.timezone))
    )
    run_id = current_run_id()
    summary = RunSummary("quarterly_settlement", quarter.label, run_id, dry_run)
    with (
        alerting_ops("quarterly_settlement", quarter.label, run_id),
        warehouse_lock(settings),
    ):
        summary.pull = pull_files(run_id)
        summary.transform = transform()
        summary.gate = check_quality(quarter, run_id)
        summary.held = not block_on_gate(
            summary.gate, quarter, run_id, publish_despite_warnings
        )
        summary.scorecard_report, summary.scored_partners = publish_scorecards(quarter)
        summary.publish = publish(quarter, run_id, dry_run or summary.held)
        if not (dry_run or summary.held):
            summary.queued, summary.without_contact = queue(summary.publish)
            summary.send = send(quarter)
    publish_summary(summary)
    return summary


if __name__ == "__main__":
    quarterly_settlement()
