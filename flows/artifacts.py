"""What every run leaves in the Prefect UI for the operator who checks it later.

Artifacts per run, under keys named for the flow (so the UI's Artifacts page
shows each one's history): the summary, rows read, loaded and quarantined
per source, a link to the gate's Data Docs (the gate task leaves the checks
themselves), the statements with the settlement total (or, for the meeting
pack, the totals it shows), the messages queued and sent (statements,
scorecards, the meeting pack, the nightly's warnings to ops), and a link to
the dbt docs where the lineage of the models the run built or read is
drawn. Each flow leaves those of its stages; a run that failed half way
leaves the artifacts of the stages it finished.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)

from channelops.meeting_pack import PackMailReport
from channelops.outbox import SendReport
from channelops.periods import Quarter
from channelops.publish import PublishReport
from channelops.pull import PullReport
from channelops.settings import Settings, load_settings
from channelops.transform import run_dbt
from flows.stages import RunSummary, publish_summary

# dbt writes its one-file docs site (manifest and catalog inlined) here.
DBT_STATIC_DOCS = "static_index.html"
# Enough of dbt's output to see why docs could not be generated.
DBT_OUTPUT_TAIL_CHARS = 2000


def docs_link(settings: Settings, path: Path) -> str:
    """A link to a file under the channelops home, served or on disk."""
    if settings.docs_url:
        relative = path.resolve().relative_to(settings.home.resolve())
        return f"{settings.docs_url.rstrip('/')}/{relative.as_posix()}"
    return path.resolve().as_uri()


@task(name="document lineage")
def document_lineage() -> Path | None:
    """Generate the dbt docs (models, columns, lineage) into the channelops home."""
    settings = load_settings()
    logger = get_run_logger()
    completed = run_dbt(settings, "docs", "generate", "--static", "--no-use-colors")
    generated = settings.dbt_work_dir / "target" / DBT_STATIC_DOCS
    if completed.returncode != 0 or not generated.exists():
        # Docs are for reading; a run that built and tested its models goes on.
        logger.warning(
            "dbt docs generate failed (exit %d), so the lineage link is missing "
            "from this run; its output ends: %s",
            completed.returncode,
            (completed.stdout + completed.stderr)[-DBT_OUTPUT_TAIL_CHARS:],
        )
        return None
    target = settings.dbt_docs_dir / "index.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp")
    shutil.copyfile(generated, temporary)
    temporary.replace(target)
    logger.info("dbt docs with the models' lineage written to %s", target)
    return target


def built_lineage_docs(settings: Settings) -> Path | None:
    """The dbt docs the last build generated, for a run that only reads marts."""
    path = settings.dbt_docs_dir / "index.html"
    return path if path.is_file() else None


def publish_artifacts(summary: RunSummary, settings: Settings) -> None:
    """Leave one artifact per finished stage of the run."""
    prefix = summary.flow.replace("_", "-")
    about = f"channelops {summary.flow} {summary.period}, run {summary.run_id}"
    publish_summary(summary)
    if summary.pull is not None:
        create_table_artifact(
            rows_by_source(summary.pull),
            key=f"{prefix}-rows-by-source",
            description=f"Rows read, loaded and quarantined per source; {about}",
        )
    # The gate's own artifact (`gate-<period>`, left by the gate task) has
    # every check; this links its Data Docs where the ops stack serves them.
    if summary.gate is not None and summary.gate.data_docs_index is not None:
        create_link_artifact(
            docs_link(settings, summary.gate.data_docs_index),
            link_text=f"Data Docs: the gate's checks for {summary.period}",
            key="data-docs",
            description=f"Quality gate results with failing rows; {about}",
        )
    if summary.publish is not None:
        create_markdown_artifact(
            statements_markdown(
                summary.publish, settings, dry_run=summary.dry_run, held=summary.held
            ),
            key=f"{prefix}-statements",
            description=f"Settlement statements and total; {about}",
        )
    if summary.meeting_pack is not None:
        create_markdown_artifact(
            meeting_pack_markdown(summary.meeting_pack, settings),
            key=f"{prefix}-totals",
            description=f"The meeting pack's totals and files; {about}",
        )
    messages = messages_table(summary, settings)
    if messages:
        create_table_artifact(
            messages,
            key=f"{prefix}-messages",
            description=f"E-mails queued and sent; {about}",
        )
    if summary.lineage_docs is not None:
        create_link_artifact(
            docs_link(settings, summary.lineage_docs),
            link_text="dbt docs: models, columns and lineage",
            key="dbt-docs",
            description=(
                "Lineage of the models this run built"
                if summary.transform is not None
                else "Lineage of the marts this run read (docs of the last build)"
            )
            + f"; {about}",
        )


def rows_by_source(pull: PullReport) -> list[dict[str, Any]]:
    """One row per source and dataset: files and rows, read = loaded + quarantined."""
    totals: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {
            "new_files": 0,
            "unchanged_files": 0,
            "rows_read": 0,
            "rows_loaded": 0,
            "rows_quarantined": 0,
        }
    )
    for load in pull.files:
        row = totals[(load.source, load.dataset)]
        if load.skipped:
            row["unchanged_files"] += 1
            continue
        row["new_files"] += 1
        row["rows_read"] += load.rows_read
        row["rows_loaded"] += load.rows_loaded
        row["rows_quarantined"] += load.rows_quarantined
    return [
        {"source": source, "dataset": dataset, **counts}
        for (source, dataset), counts in sorted(totals.items())
    ]


def statements_markdown(
    report: PublishReport, settings: Settings, *, dry_run: bool, held: bool = False
) -> str:
    """The period's statements, new versions marked, with the settlement total.

    A run held by the gate's warnings or a dry run computed the statements
    without publishing them (publish ran with ``dry_run``); the artifact says
    so and why, and marks the versions that would be new.
    """
    if held:
        verb = (
            "HELD by the gate's warnings, not published; rerun with "
            "publish_despite_warnings='<reason>' to publish"
        )
    elif dry_run:
        verb = "would be published (dry run), not published"
    else:
        verb = "published"
    new = "New" if not (held or dry_run) else "Would be new"
    lines = [
        f"## Statements {report.period}",
        "",
        f"{len(report.statements)} statement(s), {len(report.new_versions)} new "
        f"version(s) {verb}; total rebate **{report.total_amount} "
        f"{settings.currency}**.",
        "",
        f"| Partner | Version | {new} | Total |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| {s.partner_id} | v{s.version} | {'yes' if s.is_new else ''} "
        f"| {s.total_amount} {s.currency} |"
        for s in report.statements
    ]
    return "\n".join(lines) + "\n"


def backfill_markdown(
    quarters: list[Quarter],
    runs: list[RunSummary],
    settings: Settings,
    *,
    failed: bool = False,
) -> str:
    """Each quarter of a backfill: settled, held, dry run, failed or not started.

    ``runs`` are the settlements that finished, in order; with ``failed`` the
    quarter after them is the one whose settlement raised.
    """
    by_period = {run.period: run for run in runs}
    failed_quarter = (
        quarters[len(runs)] if failed and len(runs) < len(quarters) else None
    )
    lines = [
        f"## Backfill {quarters[0]} to {quarters[-1]}",
        "",
        "| Quarter | Outcome | Statements | New versions | Total | E-mails sent |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for quarter in quarters:
        run = by_period.get(quarter.label)
        if run is None or run.publish is None:
            outcome = "failed" if quarter == failed_quarter else "not started"
            lines.append(f"| {quarter} | {outcome} | | | | |")
            continue
        outcome = "held by the gate's warnings" if run.held else "settled"
        if run.dry_run:
            outcome += " (dry run)"
        lines.append(
            f"| {quarter} | {outcome} | {len(run.publish.statements)} "
            f"| {len(run.publish.new_versions)} "
            f"| {run.publish.total_amount} {settings.currency} "
            f"| {run.send.sent if run.send is not None else 0} |"
        )
    return "\n".join(lines) + "\n"


def meeting_pack_markdown(mailed: PackMailReport, settings: Settings) -> str:
    """The pack's snapshot, rebate total per program and files."""
    pack = mailed.pack
    lines = [
        f"## Meeting pack {pack.period}",
        "",
        f"Snapshot {pack.snapshot} ({pack.language}): {pack.partner_count} "
        f"partner(s), total rebate **{pack.rebate} {pack.currency}**.",
        "",
        "| Program | Partners | Rebate |",
        "| --- | --- | --- |",
    ]
    lines += [
        f"| {p.program_name} ({p.program_id}) | {p.partner_count} "
        f"| {p.amount} {pack.currency} |"
        for p in pack.programs
    ]
    lines += ["", "Files:", ""]
    lines += [f"- [{path.name}]({path.resolve().as_uri()})" for path in pack.files]
    return "\n".join(lines) + "\n"


def messages_table(summary: RunSummary, settings: Settings) -> list[dict[str, Any]]:
    """One row per kind of e-mail the run sent: queued, and what went out."""
    rows = []
    if summary.send is not None or summary.resend is not None:
        rows.append(
            _messages_row(
                (
                    f"resend {summary.resend.message_key}"
                    if summary.resend is not None
                    else "statement e-mails"
                ),
                "partners",
                summary.queued,
                summary.send,
                summary.without_contact,
            )
        )
    if summary.scorecard_mail is not None:
        mailed = summary.scorecard_mail
        rows.append(
            _messages_row(
                f"scorecard e-mails {mailed.period}",
                "partners",
                mailed.queued.queued,
                mailed.send,
                mailed.queued.without_contact,
            )
        )
    if summary.meeting_pack is not None:
        pack = summary.meeting_pack
        rows.append(
            _messages_row(
                f"meeting pack {pack.pack.period} (snapshot {pack.pack.snapshot})",
                settings.ops_email,
                pack.queued.queued,
                pack.send,
            )
        )
    warnings = summary.warnings
    if warnings is not None and not warnings.is_empty:
        rows.append(
            {
                **_messages_row(
                    f"new warnings {warnings.period}", settings.ops_email, 1, None
                ),
                # Not sent and not failed: held by the alerts' hourly limit.
                "sent": int(warnings.mailed),
            }
        )
    return rows


def _messages_row(
    messages: str,
    to: str,
    queued: int,
    send: SendReport | None,
    without_contact: tuple[str, ...] = (),
) -> dict[str, Any]:
    return {
        "messages": messages,
        "to": to,
        "queued": queued,
        "sent": send.sent if send is not None else 0,
        "failed": send.failed if send is not None else 0,
        "unconfirmed": len(send.unconfirmed) if send is not None else 0,
        "refused": len(send.refused) if send is not None else 0,
        "no_contact": ", ".join(without_contact),
    }
