"""The stage tasks both flows are made of: pull, transform, gate, publish, send.

Each task opens the warehouse for its own stage and closes it before it
returns, so dbt (a subprocess) and the gate can open the DuckDB file in turn.
Retries are declared only where a failure can be transient (network, SMTP,
a held DuckDB file; see ``flows.retries``); data errors fail at once with
what to fix.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run

from channelops.alerts import RATE_LIMITED, send_ops_alert
from channelops.early_warning import WarningReport, new_warnings, record_alerted
from channelops.errors import DeliveryIncomplete, GateBlocked
from channelops.meeting_pack import PackMailReport, mail_meeting_pack
from channelops.outbox import (
    ResendReport,
    ScorecardMailReport,
    SendReport,
    mail_scorecards,
    queue_statements,
    send_pending,
)
from channelops.periods import Month, Quarter, today_in
from channelops.publish import PublishReport, publish_statements
from channelops.pull import PullReport, pull
from channelops.settings import Settings, load_settings
from channelops.transform import TransformReport, build_models, load_rules
from channelops.warehouse import Warehouse
from expectations.checks import Scope
from expectations.config import load_gate_config
from expectations.gate import run_gate
from expectations.records import override_reason, record_override, record_results
from expectations.report import GateReport, Verdict
from flows.retries import (
    TRANSIENT_RETRIES,
    TRANSIENT_RETRY_DELAY_SECONDS,
    only_transient,
)
from notifications.documents import Language


@dataclass
class RunSummary:
    """What a run did, in the terms an operator checks."""

    flow: str
    period: str
    run_id: str
    dry_run: bool = False
    pull: PullReport | None = None
    transform: TransformReport | None = None
    gate: GateReport | None = None
    # Warnings without an override: statements computed, not published.
    held: bool = False
    scorecard_report: Path | None = None
    scored_partners: int = 0
    warnings: WarningReport | None = None
    publish: PublishReport | None = None
    queued: int = 0
    without_contact: tuple[str, ...] = ()
    send: SendReport | None = None
    partners: frozenset[str] | None = None
    lineage_docs: Path | None = None
    resend: ResendReport | None = None
    scorecard_mail: ScorecardMailReport | None = None
    meeting_pack: PackMailReport | None = None
    notes: list[str] = field(default_factory=list)

    def lines(self, settings: Settings) -> list[str]:
        out = [f"{self.flow} run {self.run_id} for {self.period}"]
        if self.partners is not None:
            out.append(f"Partners: only {', '.join(sorted(self.partners))}")
        if self.pull is not None:
            out.append(
                f"Rows read {self.pull.total('rows_read')}, loaded "
                f"{self.pull.total('rows_loaded')}, quarantined "
                f"{self.pull.total('rows_quarantined')} from "
                f"{len(self.pull.loaded_files)} new file(s); "
                f"{len(self.pull.files) - len(self.pull.loaded_files)} unchanged"
            )
        if self.transform is not None:
            out.append(
                f"dbt: {self.transform.models_built} models built, "
                f"{self.transform.tests_passed} tests passed"
            )
        if self.gate is not None:
            out.append(
                f"Gate: {self.gate.headline()}, "
                f"{len(self.gate.checks)} checks, "
                f"{len(self.gate.blocking_failures)} blocking failure(s), "
                f"{len(self.gate.warnings)} warning(s)"
            )
        if self.held:
            out.append(
                "Statements and partner e-mails HELD for the gate's warnings; "
                "rerun with a reason to publish (command line: "
                "--publish-despite-warnings '<reason>'; Run form: "
                "publish_despite_warnings)"
            )
        if self.scorecard_report is not None:
            out.append(f"Partners scored: {self.scored_partners}")
        if self.warnings is not None:
            out.append(
                f"Warnings for {self.warnings.period}: "
                f"{len(self.warnings.warnings)} new partner warning(s), "
                f"{len(self.warnings.breaches)} new SLA breach(es)"
                + (", mailed to ops" if self.warnings.mailed else "")
            )
        if self.publish is not None:
            # Held or dry runs compute the statements and publish none.
            unpublished = self.held or self.dry_run
            out.append(
                f"Statements: {len(self.publish.statements)} for {self.period}, "
                f"{len(self.publish.new_versions)} new version(s)"
                + (" computed, NOT published" if unpublished else "")
                + f", total rebate {self.publish.total_amount} {settings.currency}"
            )
        if self.send is not None:
            out.append(
                f"E-mails: {self.queued} queued, {self.send.sent} sent, "
                f"{self.send.failed} failed, {len(self.send.unconfirmed)} "
                f"unconfirmed, {len(self.send.refused)} recipient(s) refused"
            )
            out.extend(self.send.ops_lines())
        if self.resend is not None:
            out.append(
                f"Resend {self.resend.message_key}: "
                + ("queued" if self.resend.queued else "already requested before")
            )
        if self.scorecard_mail is not None:
            mailed = self.scorecard_mail
            out.append(
                f"Scorecard e-mails for {mailed.period}: {mailed.queued.queued} "
                f"queued, {mailed.send.sent} sent, {mailed.send.failed} failed, "
                f"{len(mailed.send.unconfirmed)} unconfirmed, "
                f"{len(mailed.send.refused)} recipient(s) refused"
            )
            out.extend(mailed.send.ops_lines())
            if mailed.queued.without_contact:
                out.append(
                    "No contact e-mail: " + ", ".join(mailed.queued.without_contact)
                )
        if self.meeting_pack is not None:
            pack = self.meeting_pack
            out.append(
                f"Meeting pack {pack.pack.period} (snapshot {pack.pack.snapshot}, "
                f"{pack.pack.partner_count} partners): {pack.queued.queued} "
                f"queued, {pack.send.sent} sent to {settings.ops_email}, "
                f"{pack.send.failed} failed"
            )
        if self.without_contact:
            out.append(f"No contact e-mail: {', '.join(self.without_contact)}")
        out.extend(self.notes)
        return out


@task(
    name="pull files",
    retries=TRANSIENT_RETRIES,
    retry_delay_seconds=TRANSIENT_RETRY_DELAY_SECONDS,
    retry_condition_fn=only_transient,
)
def pull_files(batch_id: str) -> PullReport:
    """Load new and changed files from the drop folder into the warehouse."""
    settings = load_settings()
    with Warehouse(settings) as warehouse:
        report = pull(settings, warehouse, batch_id=batch_id)
    logger = get_run_logger()
    for line in report.summary_lines():
        logger.info(line)
    return report


@task(
    name="build models",
    retries=TRANSIENT_RETRIES,
    retry_delay_seconds=TRANSIENT_RETRY_DELAY_SECONDS,
    retry_condition_fn=only_transient,
)
def transform() -> TransformReport:
    """Load the rule files, then build and test the dbt models."""
    settings = load_settings()
    with Warehouse(settings) as warehouse:
        load_rules(settings, warehouse)
    return build_models(settings)


@task(
    name="check data quality",
    retries=TRANSIENT_RETRIES,
    retry_delay_seconds=TRANSIENT_RETRY_DELAY_SECONDS,
    retry_condition_fn=only_transient,
)
def check_quality(
    period: Quarter, run_id: str, as_of: date | None = None, month: Month | None = None
) -> GateReport:
    """Run the run's gate suites, keep the results, show them as a run artifact.

    ``as_of`` cuts an open quarter (nightly) at that day; a settlement
    leaves it out and checks the whole quarter. ``month`` (a monthly
    scorecard run, ``period`` its quarter) checks the inputs up to the
    month's end and the month's scorecards, which is what that run mails.
    """
    settings = load_settings()
    today = today_in(settings.timezone)
    config = load_gate_config(settings.config_dir)
    if month is None:
        scope = Scope(period, settings.currency, today, config, as_of=as_of)
    else:
        scope = Scope.for_month(month, settings.currency, today, config)
    report = run_gate(
        settings.warehouse_url,
        scope,
        run_id=run_id,
        data_docs_dir=settings.data_docs_dir,
    )
    with Warehouse(settings) as warehouse:
        record_results(warehouse, report)
    create_markdown_artifact(
        key=f"gate-{report.period.lower()}",
        markdown=report.summary_markdown(),
        description=f"channelops data-quality gate {report.period}",
    )
    get_run_logger().info(
        "Gate for %s: %s; %d check(s), %d blocking failure(s), %d warning(s)",
        report.period,
        report.headline(),
        len(report.checks),
        len(report.blocking_failures),
        len(report.warnings),
    )
    return report


@task(name="publish scorecards")
def publish_scorecards(period: Quarter) -> tuple[Path, int]:
    """Write the period's scorecards for channel managers as a CSV report."""
    settings = load_settings()
    with Warehouse(settings) as warehouse:
        rows = warehouse.query_dicts(
            "select s.period, s.partner_id, p.partner_name, p.region, s.tier, "
            "s.tier_change, s.score, s.score_rank, s.tier_rank, "
            "s.tier_percentile, s.region_rank, s.region_percentile, "
            "s.net_sales, s.sales_growth_qoq, s.sales_growth_yoy, "
            "s.target_attainment, s.collection_ratio, s.days_sales_outstanding, "
            "s.return_rate, s.sla_breach_rate, s.satisfaction, "
            "s.activity_count, s.order_count, s.days_since_last_order, "
            "s.complaint_count "
            "from marts.fct_partner_scorecard as s "
            "join marts.dim_partners as p on p.partner_id = s.partner_id "
            "where s.period = ? order by s.score_rank nulls last, s.partner_id",
            (period.label,),
        )
    path = settings.reports_dir / "scorecards" / f"scorecards_{period.label}.csv"
    _write_csv(path, rows)
    get_run_logger().info(
        "Published %d scorecard(s) for %s to %s", len(rows), period.label, path
    )
    return path, len(rows)


@task(
    name="alert ops of new warnings",
    retries=TRANSIENT_RETRIES,
    retry_delay_seconds=TRANSIENT_RETRY_DELAY_SECONDS,
    retry_condition_fn=only_transient,
)
def alert_new_warnings(period: Quarter, run_id: str) -> WarningReport:
    """Mail ops the quarter's churn warnings and SLA breaches not mailed before."""
    settings = load_settings()
    logger = get_run_logger()
    with Warehouse(settings) as warehouse:
        report = new_warnings(warehouse, period, settings.timezone)
        if report.is_empty:
            logger.info("No new warnings or SLA breaches for %s", period.label)
            return report
        alert = send_ops_alert(
            settings,
            report.subject(),
            report.lines(),
            key=f"warnings:{period.label}",
        )
        logger.info(
            "Warnings alert for %s: e-mail %s, Feishu %s",
            period.label,
            alert.email,
            alert.feishu,
        )
        if alert.email == RATE_LIMITED:
            # Held by the hourly limit: not marked, so the next run sends it.
            return report
        if not alert.email_delivered:
            raise DeliveryIncomplete(
                f"the warnings e-mail for {period.label} was not accepted "
                f"({alert.email}); nothing was marked as alerted, the retry or "
                "the next nightly run sends it"
            )
        recorded = record_alerted(warehouse, report, run_id)
    report.mailed = True
    logger.info(
        "Mailed ops %d new partner warning(s) and %d SLA breach(es) for %s "
        "to %s (%d alert(s) recorded)",
        len(report.warnings),
        len(report.breaches),
        period.label,
        settings.ops_email,
        recorded,
    )
    return report


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    # UTF-8 with BOM so that Excel and WPS show the Chinese names.
    with temporary.open("w", encoding="utf-8-sig", newline="") as handle:
        if rows:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    temporary.replace(path)


@task(
    name="publish statements",
    retries=TRANSIENT_RETRIES,
    retry_delay_seconds=TRANSIENT_RETRY_DELAY_SECONDS,
    retry_condition_fn=only_transient,
)
def publish(
    period: Quarter,
    run_id: str,
    dry_run: bool,
    partners: frozenset[str] | None = None,
) -> PublishReport:
    """Publish the period's changed statements as new immutable versions."""
    settings = load_settings()
    with Warehouse(settings) as warehouse:
        return publish_statements(
            settings,
            warehouse,
            period,
            run_id=run_id,
            dry_run=dry_run,
            partners=partners,
        )


@task(
    name="queue statement e-mails",
    retries=TRANSIENT_RETRIES,
    retry_delay_seconds=TRANSIENT_RETRY_DELAY_SECONDS,
    retry_condition_fn=only_transient,
)
def queue(
    report: PublishReport, partners: frozenset[str] | None = None
) -> tuple[int, tuple[str, ...]]:
    """Record one outbox message per new statement version."""
    settings = load_settings()
    with Warehouse(settings) as warehouse:
        queued = queue_statements(
            settings, warehouse, report.new_versions, partners=partners
        )
    return queued.queued, queued.without_contact


@task(
    name="send statement e-mails",
    retries=TRANSIENT_RETRIES,
    retry_delay_seconds=TRANSIENT_RETRY_DELAY_SECONDS,
    retry_condition_fn=only_transient,
)
def send(period: Quarter, partners: frozenset[str] | None = None) -> SendReport:
    """Send what the outbox holds for the period; never what was delivered."""
    settings = load_settings()
    with Warehouse(settings) as warehouse:
        report = send_pending(
            settings, warehouse, period=period.label, partners=partners
        )
    to_check = report.ops_lines()
    if to_check:
        # Unconfirmed and refused messages are not retried: ops must look.
        send_ops_alert(
            settings,
            f"【邮件待核对】{period.label} 结算单 / statement e-mails to check",
            [
                f"{len(report.unconfirmed)} unconfirmed, {len(report.refused)} "
                "recipient(s) refused",
                *to_check,
            ],
            key=f"delivery:statement:{period.label}",
        )
    if report.failed:
        raise DeliveryIncomplete(
            f"{report.failed} statement e-mail(s) failed: "
            + "; ".join(report.problems[:5])
            + "; the outbox keeps them and the retry sends only those"
        )
    return report


@task(
    name="queue and send scorecard e-mails",
    retries=TRANSIENT_RETRIES,
    retry_delay_seconds=TRANSIENT_RETRY_DELAY_SECONDS,
    retry_condition_fn=only_transient,
)
def send_scorecards(
    period: str, partners: frozenset[str] | None = None
) -> ScorecardMailReport:
    """Mail each partner its scorecard for the period once; retry only failures."""
    settings = load_settings()
    with Warehouse(settings) as warehouse:
        mailed = mail_scorecards(settings, warehouse, period, partners)
    report = mailed.send
    to_check = report.ops_lines()
    if to_check:
        send_ops_alert(
            settings,
            f"【邮件待核对】{period} 评分卡 / scorecard e-mails to check",
            [
                f"{len(report.unconfirmed)} unconfirmed, {len(report.refused)} "
                "recipient(s) refused",
                *to_check,
            ],
            key=f"delivery:scorecard:{period}",
        )
    if report.failed:
        raise DeliveryIncomplete(
            f"{report.failed} scorecard e-mail(s) for {period} failed: "
            + "; ".join(report.problems[:5])
            + "; the outbox keeps them and the retry sends only those"
        )
    return mailed


@task(
    name="build and mail the meeting pack",
    retries=TRANSIENT_RETRIES,
    retry_delay_seconds=TRANSIENT_RETRY_DELAY_SECONDS,
    retry_condition_fn=only_transient,
)
def send_meeting_pack(period: Quarter, language: Language) -> PackMailReport:
    """Build the pack from the published statements; mail it once per snapshot."""
    settings = load_settings()
    with Warehouse(settings) as warehouse:
        mailed = mail_meeting_pack(settings, warehouse, period, language)
    get_run_logger().info(
        "Meeting pack %s (snapshot %s, %d partner(s)): %d queued, %d sent to %s",
        period.label,
        mailed.pack.snapshot,
        mailed.pack.partner_count,
        mailed.queued.queued,
        mailed.send.sent,
        settings.ops_email,
    )
    if mailed.send.failed:
        raise DeliveryIncomplete(
            f"the {period.label} meeting pack e-mail failed: "
            + "; ".join(mailed.send.problems[:5])
            + "; the outbox keeps it and the retry sends it"
        )
    return mailed


@task(name="alert ops")
def alert_ops(subject: str, lines: list[str], key: str) -> None:
    """E-mail ops and post to the Feishu bot; a failure is logged, not raised."""
    report = send_ops_alert(load_settings(), subject, lines, key=key)
    get_run_logger().info(
        "Ops alert %r: e-mail %s, Feishu %s", subject, report.email, report.feishu
    )


def publish_summary(summary: RunSummary) -> None:
    """Leave the run's summary as a Markdown artifact in the Prefect UI."""
    settings = load_settings()
    create_markdown_artifact(
        key=f"{summary.flow.replace('_', '-')}-summary",
        markdown="\n".join(f"- {line}" for line in summary.lines(settings)),
        description=f"channelops {summary.flow} {summary.period}",
    )


def block_on_gate(
    gate: GateReport,
    run_id: str,
    publish_despite_warnings: str | None = None,
) -> bool:
    """Stop the run on a blocking failure; say whether statements may go out.

    Warnings hold publication of statements and partner mail (False) unless
    ``publish_despite_warnings`` gives a reason, which is recorded in
    ``ops.gate_overrides``. Blocking failures cannot be overridden. Ops are
    alerted whenever a check failed.
    """
    reason = override_reason(publish_despite_warnings)
    verdict = gate.verdict(reason)
    logger = get_run_logger()
    if verdict is Verdict.BLOCK:
        _alert_gate(gate, run_id, "已阻止发布 / publication blocked", reason)
        failing = ", ".join(c.name for c in gate.blocking_failures) or (
            "no blocking check ran"
        )
        raise GateBlocked(
            f"data-quality gate blocked publication for {gate.period}: {failing}. "
            "No statement was published and no partner e-mail was sent; fix the "
            "input named in the ops alert, then run again"
            + (
                " (warnings can be overridden, blocking checks cannot)"
                if reason
                else ""
            )
        )
    if verdict is Verdict.HOLD:
        _alert_gate(gate, run_id, "对账单暂缓发布 / statements held", None)
        logger.warning(
            "Gate for %s passed with %d warning(s): statements and partner mail "
            "are held; rerun with publish_despite_warnings='<reason>' to publish",
            gate.period,
            len(gate.warnings),
        )
        return False
    if gate.warnings and reason is not None:
        settings = load_settings()
        with Warehouse(settings) as warehouse:
            record_override(
                warehouse, gate, flow=flow_run.get_flow_name() or "-", reason=reason
            )
        _alert_gate(gate, run_id, "已带警告发布 / published despite warnings", reason)
    elif reason is not None:
        logger.info(
            "Gate for %s has no warnings; publish_despite_warnings was not needed",
            gate.period,
        )
    return True


def _alert_gate(
    gate: GateReport, run_id: str, outcome: str, reason: str | None
) -> None:
    lines = gate.alert_lines()
    if gate.blocking_failures:
        lines.append(
            "Nothing was published and no partner e-mail was sent. Fix what each "
            "'what to do' line says, then rerun the same period."
        )
    elif reason is None:
        lines.append(
            "Statements and partner e-mails of this run are held. Fix the input, or "
            "rerun with publish_despite_warnings='<your reason>' to publish "
            "anyway; the reason is recorded with the settlement."
        )
    else:
        lines.append(f"Published despite the warnings; recorded reason: {reason}")
    alert_ops(
        f"[channelops] 数据质量检查 {gate.period}: {outcome}",
        lines,
        key=f"gate:{run_id}",
    )
