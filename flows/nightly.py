"""Nightly: pull the day's files, rebuild the models, gate, publish scorecards."""

from __future__ import annotations

from datetime import date

from prefect import flow

from channelops.periods import Quarter, today_in
from channelops.settings import load_settings
from channelops.warehouse import warehouse_lock
from flows.run_context import alerting_ops, current_run_id
from flows.stages import (
    RunSummary,
    block_on_gate,
    check_quality,
    publish_scorecards,
    publish_summary,
    pull_files,
    transform,
)


@flow(name="nightly")
def nightly(
    as_of: date | None = None, publish_despite_warnings: str | None = None
) -> RunSummary:
    """Score every partner for the quarter containing ``as_of`` (default today).

    Nightly runs send no statements, so gate warnings hold nothing here;
    ``publish_despite_warnings`` only records that they were acknowledged.
    """
    settings = load_settings()
    day = as_of or today_in(settings.timezone)
    period = Quarter.containing(day)
    run_id = current_run_id()
    summary = RunSummary("nightly", period.label, run_id)
    with alerting_ops("nightly", period.label, run_id), warehouse_lock(settings):
        summary.pull = pull_files(run_id)
        summary.transform = transform()
        summary.gate = check_quality(period, run_id, as_of=day)
        block_on_gate(summary.gate, period, run_id, publish_despite_warnings)
        summary.scorecard_report, summary.scored_partners = publish_scorecards(period)
    publish_summary(summary)
    return summary


if __name__ == "__main__":
    nightly()
