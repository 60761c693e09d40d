"""Resend: one already published statement version, e-mailed to a partner again."""

from __future__ import annotations

from prefect import flow, task

from channelops.outbox import ResendReport, queue_resend
from channelops.periods import Quarter
from channelops.settings import load_settings
from channelops.warehouse import Warehouse
from flows.parameters import PartnerId, Period, RequestReference, StatementVersion
from flows.retries import (
    TRANSIENT_RETRIES,
    TRANSIENT_RETRY_DELAY_SECONDS,
    only_transient,
)
from flows.run_context import RESEND_STAGES, current_run_id, operating
from flows.stages import RunSummary, send


@task(
    name="queue the resend",
    retries=TRANSIENT_RETRIES,
    retry_delay_seconds=TRANSIENT_RETRY_DELAY_SECONDS,
    retry_condition_fn=only_transient,
)
def queue_statement_resend(
    period: str, partner_id: str, version: int, request: str
) -> ResendReport:
    """Queue the version once for this request; a repeated request queues nothing."""
    settings = load_settings()
    with Warehouse(settings) as warehouse:
        return queue_resend(
            settings,
            warehouse,
            partner_id=partner_id,
            period=period,
            version=version,
            request=request,
        )


@flow(name="resend_statement")
def resend_statement(
    period: Period,
    partner_id: PartnerId,
    version: StatementVersion,
    request: RequestReference,
) -> RunSummary:
    """E-mail a published statement version to the partner's contacts again.

    Args:
        period: The statement's quarter, like 2026Q3.
        partner_id: The partner's code.
        version: The published version to send (ops.statement_versions).
        request: Your reference for this resend, such as a ticket number. The
            same reference never sends twice; a new one sends again.
    """
    settings = load_settings()
    summary = RunSummary("resend_statement", period, current_run_id())
    summary.partners = frozenset({partner_id})
    with operating(summary, settings, RESEND_STAGES):
        summary.resend = queue_statement_resend(period, partner_id, version, request)
        summary.queued = int(summary.resend.queued)
        summary.send = send(Quarter.parse(period), summary.partners)
    return summary
