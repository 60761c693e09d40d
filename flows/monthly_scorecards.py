"""Monthly scorecards: pull, rebuild, gate, then each partner's scorecard mailed."""

from __future__ import annotations

from prefect import flow

from channelops.periods import today_in
from channelops.settings import load_settings
from flows.artifacts import document_lineage
from flows.parameters import (
    PartnerSubset,
    ScorecardMonth,
    WarningOverrideReason,
    scorecard_month,
)
from flows.run_context import MONTHLY_SCORECARD_STAGES, current_run_id, operating
from flows.stages import (
    RunSummary,
    block_on_gate,
    check_quality,
    pull_files,
    send_scorecards,
    transform,
)


@flow(name="monthly_scorecards")
def monthly_scorecards(
    period: ScorecardMonth | None = None,
    partners: PartnerSubset | None = None,
    dry_run: bool = False,
    publish_despite_warnings: WarningOverrideReason | None = None,
) -> RunSummary:
    """E-mail each partner its scorecard for a closed month, once per month.

    Args:
        period: The month, like 2026-11. Leave empty for the last month closed
            before today (Beijing time); a month not yet over is refused.
        partners: Partner codes to mail, such as the partners whose contacts
            were fixed. Leave empty for every partner; partners already mailed
            for the month are never mailed again.
        dry_run: Pull, rebuild and check the data; mail nothing.
        publish_despite_warnings: The reason to mail although the quality gate
            warned (recorded); without it, warnings hold the e-mails.
            Blocking failures always stop partner mail.
    """
    settings = load_settings()
    month = scorecard_month(period, today_in(settings.timezone))
    summary = RunSummary("monthly_scorecards", month.label, current_run_id(), dry_run)
    summary.partners = partners
    with operating(summary, settings, MONTHLY_SCORECARD_STAGES):
        summary.pull = pull_files(summary.run_id)
        summary.transform = transform()
        summary.lineage_docs = document_lineage()
        # The gate's checks cover the month's quarter up to the month's end.
        summary.gate = check_quality(
            month.quarter, summary.run_id, as_of=month.last_day
        )
        summary.held = not block_on_gate(
            summary.gate, month.quarter, summary.run_id, publish_despite_warnings
        )
        if not (dry_run or summary.held):
            summary.scorecard_mail = send_scorecards(month.label, partners)
    return summary


if __name__ == "__main__":
    monthly_scorecards()
