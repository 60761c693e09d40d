"""Quarterly settlement: the nightly stages, then statements published and mailed."""

from __future__ import annotations

from prefect import flow, get_run_logger, task

from channelops.periods import today_in
from channelops.rules import load_adjustments, load_programs
from channelops.settings import load_settings
from flows.artifacts import document_lineage
from flows.parameters import (
    AsOfDate,
    PartnerSubset,
    Period,
    WarningOverrideReason,
    settlement_quarter,
)
from flows.run_context import SETTLEMENT_STAGES, current_run_id, operating
from flows.stages import (
    RunSummary,
    block_on_gate,
    check_quality,
    publish,
    publish_scorecards,
    pull_files,
    queue,
    send,
    transform,
)


@task(name="check rule files")
def check_rule_files() -> None:
    """Validate the programs and adjustments: a bad file stops the run here."""
    settings = load_settings()
    programs = load_programs(settings.config_dir)
    adjustments = load_adjustments(settings.config_dir)
    get_run_logger().info(
        "Rule files in %s are valid: %d program(s), %d adjustment(s)",
        settings.config_dir,
        len(programs),
        len(adjustments),
    )


@flow(name="quarterly_settlement")
def quarterly_settlement(
    period: Period | None = None,
    as_of: AsOfDate | None = None,
    partners: PartnerSubset | None = None,
    dry_run: bool = False,
    publish_despite_warnings: WarningOverrideReason | None = None,
) -> RunSummary:
    """Settle a quarter: each partner's statement published once and e-mailed.

    Args:
        period: The quarter to settle, like 2026Q3. Leave empty to settle the
            last quarter closed before as_of.
        as_of: Settle the quarter closed before this date (default today,
            Beijing time). Give period or as_of, not both.
        partners: Partner codes to settle, such as a rerun for the partners
            whose files finance fixed. Leave empty for every partner; no
            other partner's statement or e-mail is touched.
        dry_run: Compute and report the statements; publish and send nothing.
        publish_despite_warnings: The reason to publish although the quality
            gate warned (recorded); without it, warnings hold the statements
            and partner e-mails. Blocking failures always stop publication.
    """
    settings = load_settings()
    quarter = settlement_quarter(period, as_of, today_in(settings.timezone))
    summary = RunSummary(
        "quarterly_settlement", quarter.label, current_run_id(), dry_run
    )
    summary.partners = partners
    with operating(summary, settings, SETTLEMENT_STAGES):
        check_rule_files()
        summary.pull = pull_files(summary.run_id)
        summary.transform = transform()
        summary.lineage_docs = document_lineage()
        summary.gate = check_quality(quarter, summary.run_id)
        summary.held = not block_on_gate(
            summary.gate, summary.run_id, publish_despite_warnings
        )
        summary.scorecard_report, summary.scored_partners = publish_scorecards(quarter)
        held_or_dry = dry_run or summary.held
        summary.publish = publish(quarter, summary.run_id, held_or_dry, partners)
        if not held_or_dry:
            summary.queued, summary.without_contact = queue(summary.publish, partners)
            summary.send = send(quarter, partners)
    return summary


if __name__ == "__main__":
    quarterly_settlement()
