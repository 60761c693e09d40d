"""Nightly: pull the day's files, rebuild the models, gate, publish scorecards,
then mail ops the new churn warnings and SLA breaches."""

from __future__ import annotations

from prefect import flow

from channelops.periods import Quarter, today_in
from channelops.settings import load_settings
from flows.artifacts import document_lineage
from flows.parameters import AsOfDate, WarningOverrideReason
from flows.run_context import NIGHTLY_STAGES, current_run_id, operating
from flows.stages import (
    RunSummary,
    alert_new_warnings,
    block_on_gate,
    check_quality,
    publish_scorecards,
    pull_files,
    transform,
)


@flow(name="nightly")
def nightly(
    as_of: AsOfDate | None = None,
    publish_despite_warnings: WarningOverrideReason | None = None,
) -> RunSummary:
    """Score every partner for the quarter containing as_of.

    Nightly runs send no statements, so gate warnings hold nothing here.
    Ops get one e-mail with the warnings and SLA breaches not mailed before.

    Args:
        as_of: The day to run for (default today, Beijing time); the
            scorecards cover the quarter it falls in, up to that day.
        publish_despite_warnings: Acknowledges the quality gate's warnings,
            with the reason (recorded). Blocking failures always stop the run.
    """
    settings = load_settings()
    day = as_of or today_in(settings.timezone)
    period = Quarter.containing(day)
    summary = RunSummary("nightly", period.label, current_run_id())
    with operating(summary, settings, NIGHTLY_STAGES):
        summary.pull = pull_files(summary.run_id)
        summary.transform = transform()
        summary.lineage_docs = document_lineage()
        summary.gate = check_quality(period, summary.run_id, as_of=day)
        block_on_gate(summary.gate, summary.run_id, publish_despite_warnings)
        summary.scorecard_report, summary.scored_partners = publish_scorecards(period)
        summary.warnings = alert_new_warnings(period, summary.run_id)
    return summary


if __name__ == "__main__":
    nightly()
