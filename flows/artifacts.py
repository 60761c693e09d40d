"""What every run leaves in the Prefect UI for the operator who checks it later.

Artifacts per run, under keys named for the flow (so the UI's Artifacts page
shows each one's history): the summary, rows read, loaded and quarantined
per source, a link to the gate's Data Docs (the gate task leaves the checks
themselves), the statements with the settlement total, the messages queued
and sent, and a link to the dbt docs where the models' lineage is drawn. A
run that failed half way leaves the artifacts of the stages it finished.
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
    if summary.send is not None or summary.resend is not None:
        create_table_artifact(
            messages_table(summary),
            key=f"{prefix}-messages",
            description=f"Partner e-mails queued and sent; {about}",
        )
    if summary.lineage_docs is not None:
        create_link_artifact(
            docs_link(settings, summary.lineage_docs),
            link_text="dbt docs: models, columns and lineage",
            key="dbt-docs",
            description=f"Lineage of the models this run built; {about}",
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


def messages_table(summary: RunSummary) -> list[dict[str, Any]]:
    """What the run asked the outbox to send, and what went out."""
    send = summary.send
    return [
        {
            "messages": (
                f"resend {summary.resend.message_key}"
                if summary.resend is not None
                else "statement e-mails"
            ),
            "queued": summary.queued,
            "sent": send.sent if send is not None else 0,
            "failed": send.failed if send is not None else 0,
            "no_contact": ", ".join(summary.without_contact),
        }
    ]
