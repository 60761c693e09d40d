"""The outbox: every partner message is recorded before it is sent.

A message is queued once per statement version, under an idempotency key
(partner, period, version, content hash); sending marks it ``sent`` right
after the SMTP server accepts it. A rerun sends only what is still
``pending`` or ``failed``, so delivered statements are never sent twice.
The window SMTP leaves open (accepted, then the run dies before recording
it) can repeat one message; it keeps its Message-ID so the copy is
recognisable.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from channelops.errors import ChannelopsError
from channelops.publish import LEDGER_DDL, PublishedStatement, statement_path
from channelops.settings import Settings
from channelops.warehouse import Warehouse
from notifications.documents import (
    Language,
    OutgoingMessage,
    Recipient,
    ScorecardMetric,
    ScorecardSummary,
    Statement,
    StatementLine,
    message_id_for,
)
from notifications.mailer import SmtpConfig, deliver
from notifications.render import render_statement_message
from notifications.sink import MailSink

logger = logging.getLogger(__name__)

OUTBOX_DDL = """
create table if not exists ops.outbox (
    message_key varchar not null,
    kind varchar not null,
    partner_id varchar,
    period varchar,
    version integer,
    content_hash varchar,
    document_path varchar,
    recipients varchar not null,
    message_id varchar not null,
    status varchar not null,
    attempts integer not null,
    last_error varchar,
    queued_at timestamp not null,
    sent_at timestamp
)
"""
# Statuses a message can be in; only the first two are sent.
SENDABLE = ("pending", "failed")
NO_CONTACT = "no_contact"

RULE_TEXT: dict[Language, dict[str, str]] = {
    "zh-CN": {
        "retroactive": "全额累进：达到档位的返利率适用于全部基数",
        "incremental": "超额累进：各档返利率只适用于该档区间内的金额",
        "per_unit": "按件返利：各档每件金额只适用于该档区间内的数量",
        "percentage": "固定比例：返利率适用于全部基数",
        "fixed_target": "目标奖励：达到目标即获固定金额",
        "growth": "增长返利：返利率适用于较上年同期的增长部分",
        "adjustment": "人工调整（已审批）",
        "withdrawn": "撤销此前发布的明细",
    },
    "en": {
        "retroactive": "Retroactive: the rate of the tier reached applies to "
        "the whole basis",
        "incremental": "Incremental: each tier's rate applies to its own slice",
        "per_unit": "Per unit: each band's amount per unit applies to its own units",
        "percentage": "Percentage: the rate applies to the whole basis",
        "fixed_target": "Target bonus: a fixed amount once the target is reached",
        "growth": "Growth: the rate applies to the increase over the same "
        "period last year",
        "adjustment": "Manual adjustment (approved)",
        "withdrawn": "Withdraws a line published before",
    },
}

# Bases that count things (units, customers, activities): rates are per unit.
COUNTED_BASES = ("quantity", "new_customers", "co_marketing_activities")
# What a basis other than net sales or quantity measures, said on the line.
BASIS_TEXT: dict[Language, dict[str, str]] = {
    "zh-CN": {
        "new_customer_sales": "基数：本累计期新客户的净销售额",
        "new_customers": "基数：本累计期新客户数",
        "co_marketing_spend": "基数：本累计期已完成市场共建活动的投入",
        "co_marketing_activities": "基数：本累计期已完成的市场共建活动数",
        "sub_distributor_sales": "基数：下级分销商的净销售额（上级分成）",
    },
    "en": {
        "new_customer_sales": "basis: net sales to customers new in the period",
        "new_customers": "basis: customers new in the period",
        "co_marketing_spend": "basis: spend on co-marketing activities "
        "completed in the period",
        "co_marketing_activities": "basis: co-marketing activities completed "
        "in the period",
        "sub_distributor_sales": "basis: net sales of your sub-distributors "
        "(override share)",
    },
}


def line_explanation(line: dict[str, Any], language: Language) -> str:
    """How a document line's amount came about, in the partner's language."""

    def get(name: str) -> str:
        return str(line.get(name) if line.get(name) is not None else "-")

    if language == "zh-CN":
        parts = [
            f"累计期：{'全年' if line.get('accumulation') == 'year' else '本季'}",
            f"累计基数 {get('measured_basis')}",
            f"累计应得 {get('entitlement_amount')}",
            f"此前已计 {get('previously_entitled_amount')}",
            f"结转入 {get('carried_in_amount')}",
            f"结转出 {get('carried_out_amount')}",
            f"来源明细 {get('source_line_count')} 行",
        ]
        if line.get("basis") in BASIS_TEXT["zh-CN"]:
            parts.insert(0, BASIS_TEXT["zh-CN"][line["basis"]])
        if line.get("is_eligible") is False:
            parts.append("回款率未达资格要求")
        if line.get("previously_published_amount") is not None:
            parts.append(f"此前已发布 {get('previously_published_amount')}")
    else:
        parts = [
            f"accumulation: {get('accumulation')}",
            f"accumulated basis {get('measured_basis')}",
            f"entitled so far {get('entitlement_amount')}",
            f"entitled before {get('previously_entitled_amount')}",
            f"carried in {get('carried_in_amount')}",
            f"carried out {get('carried_out_amount')}",
            f"{get('source_line_count')} source line(s)",
        ]
        if line.get("basis") in BASIS_TEXT["en"]:
            parts.insert(0, BASIS_TEXT["en"][line["basis"]])
        if line.get("is_eligible") is False:
            parts.append("collection ratio below the eligibility minimum")
        if line.get("previously_published_amount") is not None:
            parts.append(f"published before {get('previously_published_amount')}")
    if line.get("reason"):
        parts.append(str(line["reason"]))
    return "; ".join(parts)


@dataclass(frozen=True)
class QueueReport:
    queued: int
    without_contact: tuple[str, ...]


@dataclass(frozen=True)
class SendReport:
    sent: int
    failed: int
    problems: tuple[str, ...]


def statement_message_key(statement: PublishedStatement) -> str:
    return (
        f"statement:{statement.partner_id}:{statement.period}:"
        f"v{statement.version}:{statement.content_hash[:16]}"
    )


def _mail_domain(settings: Settings) -> str:
    return settings.mail_from.rpartition("@")[2] or "channelops.local"


def queue_statements(
    settings: Settings,
    warehouse: Warehouse,
    statements: tuple[PublishedStatement, ...],
    *,
    partners: frozenset[str] | None = None,
) -> QueueReport:
    """Record one pending message per new statement version with a contact.

    With ``partners`` only those partners' statements are queued.
    """
    if partners is not None:
        statements = tuple(s for s in statements if s.partner_id in partners)
    warehouse.execute(OUTBOX_DDL)
    contacts = _contacts(warehouse)
    known = {
        row[0]
        for row in warehouse.query(
            "select message_key from ops.outbox where kind = 'statement'"
        )
    }
    now = datetime.now(UTC).replace(tzinfo=None)
    queued = 0
    without_contact = []
    with warehouse.transaction():
        for statement in statements:
            key = statement_message_key(statement)
            if key in known:
                continue
            recipients = contacts.get(statement.partner_id, [])
            status = "pending" if recipients else NO_CONTACT
            if not recipients:
                without_contact.append(statement.partner_id)
            warehouse.execute(
                "insert into ops.outbox values "
                "(?, 'statement', ?, ?, ?, ?, ?, ?, ?, ?, 0, null, ?, null)",
                (
                    key,
                    statement.partner_id,
                    statement.period,
                    statement.version,
                    statement.content_hash,
                    str(statement_path(settings, statement)),
                    json.dumps([r.__dict__ for r in recipients], ensure_ascii=False),
                    message_id_for(key, _mail_domain(settings)),
                    status,
                    now,
                ),
            )
            queued += bool(recipients)
    if without_contact:
        logger.warning(
            "%d partner(s) have no contact e-mail, so no statement is sent: %s; "
            "add them to the partner contacts file",
            len(without_contact),
            ", ".join(without_contact),
        )
    logger.info("Queued %d statement message(s)", queued)
    return QueueReport(queued, tuple(without_contact))


def _contacts(warehouse: Warehouse) -> dict[str, list[Recipient]]:
    contacts: dict[str, list[Recipient]] = {}
    for partner_id, email, name, language in warehouse.query(
        "select partner_id, email, contact_name, language "
        "from marts.dim_partner_contacts order by partner_id, email"
    ):
        contacts.setdefault(partner_id, []).append(Recipient(email, name, language))
    return contacts


def send_pending(
    settings: Settings,
    warehouse: Warehouse,
    *,
    period: str | None = None,
    partners: frozenset[str] | None = None,
) -> SendReport:
    """Send every pending or failed statement message, recording each outcome.

    With ``partners`` only those partners' messages are sent; the others
    stay in the outbox as they are.
    """
    warehouse.execute(OUTBOX_DDL)
    chosen = sorted(partners) if partners is not None else []
    rows = warehouse.query_dicts(
        "select message_key, document_path, recipients, message_id, version "
        "from ops.outbox where kind = 'statement' and status in (?, ?) "
        + ("and period = ? " if period else "")
        + (
            f"and partner_id in ({', '.join('?' for _ in chosen)}) "
            if partners is not None
            else ""
        )
        + "order by partner_id, period, version",
        (*SENDABLE, *((period,) if period else ()), *chosen),
    )
    if not rows:
        logger.info("No statement messages waiting to be sent")
        return SendReport(0, 0, ())
    messages = [_render(row) for row in rows]
    problems: list[str] = []
    sent = failed = 0

    def on_sent(message: OutgoingMessage) -> None:
        nonlocal sent
        sent += 1
        warehouse.execute(
            "update ops.outbox set status = 'sent', attempts = attempts + 1, "
            "last_error = null, sent_at = ? where message_key = ?",
            (datetime.now(UTC).replace(tzinfo=None), message.key),
        )

    def on_failed(message: OutgoingMessage, reason: str) -> None:
        nonlocal failed
        failed += 1
        problems.append(f"{message.key}: {reason}")
        warehouse.execute(
            "update ops.outbox set status = 'failed', attempts = attempts + 1, "
            "last_error = ? where message_key = ?",
            (reason, message.key),
        )

    with smtp_config(settings) as config:
        deliver(messages, config, on_sent=on_sent, on_failed=on_failed)
    logger.info("Sent %d statement message(s), %d failed", sent, failed)
    return SendReport(sent, failed, tuple(problems))


@dataclass(frozen=True)
class ResendReport:
    message_key: str
    queued: bool
    recipients: tuple[str, ...]


def resend_message_key(partner_id: str, period: str, version: int, request: str) -> str:
    return f"resend:{partner_id}:{period}:v{version}:{request}"


def queue_resend(
    settings: Settings,
    warehouse: Warehouse,
    *,
    partner_id: str,
    period: str,
    version: int,
    request: str,
) -> ResendReport:
    """Queue one more message for an already published statement version.

    A resend is deliberate: it is queued once per ``request`` (the operator's
    reference, such as a ticket number), so rerunning the same request sends
    nothing again, and plain settlement reruns never resend. It goes to the
    partner's current contacts.
    """
    warehouse.execute(OUTBOX_DDL)
    warehouse.execute(LEDGER_DDL)
    key = resend_message_key(partner_id, period, version, request)
    published = warehouse.query_dicts(
        "select content_hash, document_path from ops.statement_versions "
        "where partner_id = ? and period = ? and version = ?",
        (partner_id, period, version),
    )
    if not published:
        raise ChannelopsError(
            f"statement of partner {partner_id!r} for {period} version {version} "
            f"was never published (published versions: "
            f"{_published_versions(warehouse, partner_id, period)}); give a "
            "version from ops.statement_versions and run again"
        )
    if warehouse.query("select 1 from ops.outbox where message_key = ?", (key,)):
        logger.info(
            "Resend %s was already requested; nothing queued again. Use a new "
            "request reference to send it once more",
            key,
        )
        return ResendReport(key, False, ())
    recipients = _contacts(warehouse).get(partner_id, [])
    if not recipients:
        raise ChannelopsError(
            f"partner {partner_id!r} has no contact e-mail, so statement "
            f"{period} v{version} cannot be resent; add the contact to the "
            "partner contacts file, run the nightly flow, then resend"
        )
    warehouse.execute(
        "insert into ops.outbox values "
        "(?, 'statement', ?, ?, ?, ?, ?, ?, ?, 'pending', 0, null, ?, null)",
        (
            key,
            partner_id,
            period,
            version,
            published[0]["content_hash"],
            published[0]["document_path"],
            json.dumps([r.__dict__ for r in recipients], ensure_ascii=False),
            message_id_for(key, _mail_domain(settings)),
            datetime.now(UTC).replace(tzinfo=None),
        ),
    )
    logger.info(
        "Queued a resend of partner %s's %s statement v%d to %d recipient(s) "
        "(request %s)",
        partner_id,
        period,
        version,
        len(recipients),
        request,
    )
    return ResendReport(key, True, tuple(r.email for r in recipients))


def _published_versions(warehouse: Warehouse, partner_id: str, period: str) -> str:
    versions = [
        f"v{row[0]}"
        for row in warehouse.query(
            "select version from ops.statement_versions "
            "where partner_id = ? and period = ? order by version",
            (partner_id, period),
        )
    ]
    return ", ".join(versions) or "none"


@contextmanager
def smtp_config(settings: Settings) -> Iterator[SmtpConfig]:
    """The configured SMTP server, or the embedded sink for local runs."""
    common: dict[str, Any] = {
        "sender": settings.mail_from,
        "sender_name": settings.mail_from_name,
        "per_second": settings.mail_per_second,
    }
    if settings.smtp_host is not None:
        yield SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            user=settings.smtp_user,
            password=(
                settings.smtp_password.get_secret_value()
                if settings.smtp_password
                else None
            ),
            **common,
        )
        return
    with MailSink(settings.outbox_dir) as sink:
        logger.info(
            "Delivering to the local mail sink; messages land in %s",
            settings.outbox_dir,
        )
        yield SmtpConfig(host="127.0.0.1", port=sink.port, security="none", **common)


def _render(row: dict[str, Any]) -> OutgoingMessage:
    with open(row["document_path"], encoding="utf-8") as handle:
        published = json.load(handle, parse_float=Decimal)
    recipients = tuple(
        Recipient(r["email"], r["name"], r["language"])
        for r in json.loads(row["recipients"])
    )
    statement = statement_from_document(
        published["document"],
        version=published["version"],
        content_hash=published["content_hash"],
        language=recipients[0].language,
    )
    return render_statement_message(
        statement, recipients, key=row["message_key"], message_id=row["message_id"]
    )


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def statement_from_document(
    document: dict[str, Any], *, version: int, content_hash: str, language: Language
) -> Statement:
    """The mail's view of a published statement document."""
    scorecard = document.get("scorecard")
    return Statement(
        partner_id=document["partner"]["partner_id"],
        partner_name=document["partner"]["partner_name"],
        period=document["period"],
        version=version,
        currency=document["currency"],
        net_sales=Decimal(document["net_sales"]),
        lines=tuple(
            StatementLine(
                line_no=line["line_no"],
                program_id=line["program_id"],
                program_name=line["program_name"],
                rule=RULE_TEXT[language][line["calculation"]],
                basis_amount=Decimal(line["basis_amount"]),
                tier=line["tier_name"],
                rate=Decimal(line["rate"]),
                amount=Decimal(line["amount"]),
                source_line_count=line["source_line_count"],
                explanation=line_explanation(line, language),
                source_line_ids=tuple(line.get("source_line_ids", ())),
                rate_is_per_unit=line.get("basis") in COUNTED_BASES,
            )
            for line in document["lines"]
        ),
        total=Decimal(document["total_amount"]),
        content_hash=content_hash,
        scorecard=(
            None if scorecard is None else _scorecard_summary(scorecard, language)
        ),
    )


def _scorecard_summary(
    scorecard: dict[str, Any], language: Language
) -> ScorecardSummary:
    label = "tier_label_zh" if language == "zh-CN" else "tier_label_en"
    return ScorecardSummary(
        score=_decimal(scorecard["score"]),
        tier=scorecard[label] or scorecard["tier"],
        rank=scorecard["rank"],
        partner_count=scorecard["scored_partner_count"],
        metrics=tuple(
            ScorecardMetric(
                name=m["metric"],
                label_zh=m["label_zh"],
                label_en=m["label_en"],
                value=format_metric(m["metric"], _decimal(m["value"])),
                weight=Decimal(m["weight"]),
            )
            for m in scorecard["metrics"]
        ),
    )


PERCENT_METRICS = frozenset(
    {"sales_growth_qoq", "collection_ratio", "return_rate", "sla_breach_rate"}
)


def format_metric(metric: str, value: Decimal | None) -> str:
    """A metric value as a partner reads it: percentages, amounts, counts."""
    if value is None:
        return "—"
    if metric in PERCENT_METRICS:
        return f"{(value * 100).quantize(Decimal('0.1'))}%"
    if metric == "net_sales":
        return f"{value.quantize(Decimal('0.01')):,}"
    return f"{value.normalize():f}"
