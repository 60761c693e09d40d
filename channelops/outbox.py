"""The outbox: every partner message is recorded before it is sent.

A message is queued once per statement version, under an idempotency key
(document, partner, period, version, content hash); sending marks it
``sent`` right after the SMTP server accepts it. A rerun sends only what is
still ``pending`` or ``failed`` (certainly not delivered), so delivered
statements are never sent twice.

Two statuses are not sent again by a rerun: ``unconfirmed`` (the connection
dropped after the content went out, so the relay may hold it: sending again
could give the partner two copies; check the relay's log for its Message-ID
and resend deliberately if it is not there) and ``refused`` (the server
refused every recipient permanently; fix the contact and resend). Each
refused recipient is recorded in ``ops.outbox_refusals``. The window SMTP
leaves open (accepted, then the run dies before recording it) can still
repeat one message; it keeps its Message-ID so the copy is recognisable.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Generator, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from channelops.errors import ChannelopsError
from channelops.publish import (
    LEDGER_DDL,
    PublishedStatement,
    canonical_json,
    change_reason,
    statement_path,
)
from channelops.rendering import render_workers, rendered
from channelops.scorecard_mail import (
    format_metric,
    scorecard_documents,
    scorecard_from_document,
)
from channelops.settings import Settings
from channelops.tier_records import record_tiers
from channelops.warehouse import Warehouse
from notifications.documents import (
    Attachment,
    Language,
    LineChange,
    OutgoingMessage,
    Recipient,
    ScorecardMetric,
    ScorecardSummary,
    Statement,
    StatementLine,
    VersionChanges,
    message_id_for,
)
from notifications.formatting import format_percent, format_plain
from notifications.mailer import ALL_REFUSED, RefusedRecipient, SmtpConfig, deliver
from notifications.render import render_scorecard_message, render_statement_message
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
# Each outcome is recorded by message key right after the server's reply:
# without an index PostgreSQL scans the whole outbox for every message
# (37 ms per update at 100,000 rows, 2.5 ms with it).
OUTBOX_INDEX_DDL = (
    "create index if not exists outbox_message_key on ops.outbox (message_key)"
)
REFUSALS_DDL = """
create table if not exists ops.outbox_refusals (
    message_key varchar not null,
    recipient varchar not null,
    reason varchar not null,
    refused_at timestamp not null
)
"""
# Statuses a message can be in; only the first two are sent.
SENDABLE = ("pending", "failed")
NO_CONTACT = "no_contact"
UNCONFIRMED = "unconfirmed"
REFUSED = "refused"

# How a calculation reads to a partner; one not listed prints its own name.
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
ZERO = Decimal("0.00")

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
        """A figure as partners read it: money grouped to the fen, a count
        without trailing zeros, target attainment as a percentage."""
        value = line.get(name)
        if value is None:
            return "-"
        if name in ("accumulation", "source_line_count"):
            return str(value)
        number = Decimal(str(value))
        if name == "measured_basis" and line.get("basis") == "target_attainment":
            return format_percent(number)
        if name == "measured_basis" and line.get("basis") in COUNTED_BASES:
            return f"{Decimal(format_plain(number)):,}"
        return f"{number.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"

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
    """One send: ``failed`` messages are retried by a rerun, the rest are not."""

    sent: int
    failed: int
    problems: tuple[str, ...]
    unconfirmed: tuple[str, ...] = ()
    refused: tuple[RefusedRecipient, ...] = ()
    # The Message-ID of each unconfirmed message, in the same order.
    unconfirmed_message_ids: tuple[str, ...] = ()

    def ops_lines(self) -> list[str]:
        """What ops must look at by hand after this send, one line each."""
        lines = [
            f"Unconfirmed {key}: the connection dropped after the content was "
            f"sent; look for Message-ID {message_id} in the relay's log and "
            "resend (channelops resend) only if it is not there"
            for key, message_id in zip(
                self.unconfirmed, self.unconfirmed_message_ids, strict=True
            )
        ]
        lines.extend(
            f"Refused {refusal.recipient} for {refusal.key}: {refusal.reason}; "
            "fix the partner contact"
            for refusal in self.refused
        )
        return lines


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
    _create_outbox(warehouse)
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
    kind: str = "statement",
) -> SendReport:
    """Send every pending or failed message of ``kind``, recording each outcome.

    ``kind`` is ``statement`` or ``scorecard``. With ``partners`` only those
    partners' messages are sent; the others stay in the outbox as they are.
    Each message is rendered shortly before it is sent (in worker processes
    for a big batch, see ``channelops.rendering``), so memory does not grow
    with the number of partners. A message that cannot be rendered stops the
    send there: the messages before it are sent and recorded, it and the
    rest stay in the outbox as they were.
    """
    _create_outbox(warehouse)
    renderer = _RENDERERS[kind]
    chosen = sorted(partners) if partners is not None else []
    rows = warehouse.query_dicts(
        "select message_key, period, document_path, recipients, message_id, "
        "version from ops.outbox where kind = ? and status in (?, ?) "
        + ("and period = ? " if period else "")
        + (
            f"and partner_id in ({', '.join('?' for _ in chosen)}) "
            if partners is not None
            else ""
        )
        + "order by partner_id, period, version",
        (kind, *SENDABLE, *((period,) if period else ()), *chosen),
    )
    if not rows:
        logger.info("No %s messages waiting to be sent", kind)
        return SendReport(0, 0, ())
    workers = render_workers(settings.render_workers, len(rows))
    outcome = _Outcomes(warehouse)
    stop = _RenderStop()
    with (
        smtp_config(settings) as config,
        closing(stop.messages(rendered(renderer, rows, workers))) as messages,
    ):
        report = deliver(
            messages,
            config,
            on_sent=outcome.sent,
            on_failed=outcome.failed,
            on_unconfirmed=outcome.unconfirmed,
        )
    outcome.record_refusals(report.refused)
    logger.info(
        "Sent %d %s message(s): %d failed (a rerun retries them), "
        "%d unconfirmed, %d recipient(s) refused",
        outcome.sent_count,
        kind,
        len(outcome.problems),
        len(outcome.unconfirmed_keys),
        len(report.refused),
    )
    if stop.error is not None:
        raise stop.error
    return SendReport(
        outcome.sent_count,
        len(outcome.problems),
        tuple(outcome.problems),
        tuple(outcome.unconfirmed_keys),
        tuple(report.refused),
        tuple(outcome.unconfirmed_ids),
    )


class _RenderStop:
    """Ends the messages before the first that cannot be rendered, keeping why.

    The messages delivered until then are recorded (refusals included) before
    ``send_pending`` raises the error.
    """

    def __init__(self) -> None:
        self.error: Exception | None = None

    def messages(
        self, rendered_messages: Iterator[OutgoingMessage]
    ) -> Generator[OutgoingMessage]:
        try:
            yield from rendered_messages
        except Exception as error:
            self.error = error


class _Outcomes:
    """Records each message's outcome in the outbox as the mailer reports it."""

    def __init__(self, warehouse: Warehouse) -> None:
        self._warehouse = warehouse
        self.sent_count = 0
        self.problems: list[str] = []
        self.unconfirmed_keys: list[str] = []
        self.unconfirmed_ids: list[str] = []

    def sent(self, message: OutgoingMessage) -> None:
        self.sent_count += 1
        self._warehouse.execute(
            "update ops.outbox set status = 'sent', attempts = attempts + 1, "
            "last_error = null, sent_at = ? where message_key = ?",
            (_now(), message.key),
        )

    def failed(self, message: OutgoingMessage, reason: str) -> None:
        # Every recipient refused for good: retrying cannot help.
        status = REFUSED if reason == ALL_REFUSED else "failed"
        if status == "failed":
            self.problems.append(f"{message.key}: {reason}")
        self._record(message, status, reason)

    def unconfirmed(self, message: OutgoingMessage, reason: str) -> None:
        self.unconfirmed_keys.append(message.key)
        self.unconfirmed_ids.append(message.message_id)
        self._record(message, UNCONFIRMED, reason)

    def record_refusals(self, refused: list[RefusedRecipient]) -> None:
        self._warehouse.execute(REFUSALS_DDL)
        for refusal in refused:
            self._warehouse.execute(
                "insert into ops.outbox_refusals values (?, ?, ?, ?)",
                (refusal.key, refusal.recipient, refusal.reason, _now()),
            )

    def _record(self, message: OutgoingMessage, status: str, reason: str) -> None:
        self._warehouse.execute(
            "update ops.outbox set status = ?, attempts = attempts + 1, "
            "last_error = ? where message_key = ?",
            (status, reason, message.key),
        )


def _create_outbox(warehouse: Warehouse) -> None:
    warehouse.execute(OUTBOX_DDL)
    warehouse.execute(OUTBOX_INDEX_DDL)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


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
    _create_outbox(warehouse)
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
            password=settings.smtp_password_value(),
            **common,
        )
        return
    with MailSink(settings.outbox_dir) as sink:
        logger.info(
            "Delivering to the local mail sink; messages land in %s",
            settings.outbox_dir,
        )
        yield SmtpConfig(host="127.0.0.1", port=sink.port, security="none", **common)


def render_statement_row(row: dict[str, Any]) -> OutgoingMessage:
    """The statement e-mail of an outbox row, as send_pending delivers it."""
    path = Path(row["document_path"])
    published = _read_published(path)
    recipients = _recipients(row)
    version = published["version"]
    # A corrected statement is compared with the version it replaces.
    previous_path = path.with_name(f"v{version - 1}.json")
    previous = _read_published(previous_path) if previous_path.is_file() else None
    statement = statement_from_document(
        published["document"],
        version=version,
        content_hash=published["content_hash"],
        language=recipients[0].language,
        previous=previous,
    )
    return render_statement_message(
        statement, recipients, key=row["message_key"], message_id=row["message_id"]
    )


def queue_scorecards(
    settings: Settings,
    warehouse: Warehouse,
    period: str,
    partners: frozenset[str] | None = None,
) -> QueueReport:
    """Record one pending scorecard message per partner for ``period``.

    A partner gets one scorecard per period: a later rebuild that changes
    the figures does not mail it again (the key's content hash records
    which figures were sent).
    """
    _create_outbox(warehouse)
    contacts = _contacts(warehouse)
    already = {
        row[0]
        for row in warehouse.query(
            "select partner_id from ops.outbox where kind = 'scorecard' and period = ?",
            (period,),
        )
    }
    folder = settings.reports_dir / "scorecards" / period
    queued, without_contact, published = 0, [], []
    with warehouse.transaction():
        for document in scorecard_documents(warehouse, period):
            partner_id = document["partner"]["partner_id"]
            if partner_id in already or (
                partners is not None and partner_id not in partners
            ):
                continue
            data = canonical_json(document)
            digest = hashlib.sha256(data).hexdigest()
            path = folder / f"{partner_id}_{digest[:16]}.json"
            _write_document(path, data)
            recipients = contacts.get(partner_id, [])
            if not recipients:
                without_contact.append(partner_id)
            key = f"scorecard:{partner_id}:{period}:v1:{digest[:16]}"
            warehouse.execute(
                "insert into ops.outbox values "
                "(?, 'scorecard', ?, ?, 1, ?, ?, ?, ?, ?, 0, null, ?, null)",
                (
                    key,
                    partner_id,
                    period,
                    digest,
                    str(path),
                    json.dumps([r.__dict__ for r in recipients], ensure_ascii=False),
                    message_id_for(key, _mail_domain(settings)),
                    "pending" if recipients else NO_CONTACT,
                    _now(),
                ),
            )
            queued += bool(recipients)
            published.append(partner_id)
        # The tiers these scorecards state are kept as told (docs/scorecards.md).
        record_tiers(warehouse, period, published, recorded_for="scorecard_mail")
    logger.info(
        "Queued %d scorecard message(s) for %s; %d partner(s) without contact",
        queued,
        period,
        len(without_contact),
    )
    return QueueReport(queued, tuple(without_contact))


@dataclass(frozen=True)
class ScorecardMailReport:
    """One delivery of a period's scorecards: what was queued, then sent."""

    period: str
    queued: QueueReport
    send: SendReport


def mail_scorecards(
    settings: Settings,
    warehouse: Warehouse,
    period: str,
    partners: frozenset[str] | None = None,
) -> ScorecardMailReport:
    """Queue each partner's scorecard for ``period`` once, then send the outbox's.

    ``channelops send-scorecards`` and the monthly_scorecards flow both call
    this: a partner already mailed for the period is neither queued nor sent
    again, and a message that failed before is retried.
    """
    queued = queue_scorecards(settings, warehouse, period, partners)
    report = send_pending(
        settings, warehouse, period=period, partners=partners, kind="scorecard"
    )
    return ScorecardMailReport(period, queued, report)


def _write_document(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def _render_scorecard(row: dict[str, Any]) -> OutgoingMessage:
    path = Path(row["document_path"])
    document = _read_published(path)
    recipients = _recipients(row)
    card = scorecard_from_document(
        document,
        content_hash=hashlib.sha256(path.read_bytes()).hexdigest(),
        language=recipients[0].language,
    )
    return render_scorecard_message(
        card, recipients, key=row["message_key"], message_id=row["message_id"]
    )


def _recipients(row: dict[str, Any]) -> tuple[Recipient, ...]:
    return tuple(
        Recipient(r["email"], r["name"], r["language"])
        for r in json.loads(row["recipients"])
    )


def _read_published(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        published: dict[str, Any] = json.load(handle, parse_float=Decimal)
    return published


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def queue_meeting_pack(
    settings: Settings,
    warehouse: Warehouse,
    period: str,
    snapshot: str,
    html_path: Path,
    language: Language,
) -> QueueReport:
    """Record the pack for the channel managers once per quarter and snapshot.

    The snapshot hashes the published statement versions the pack was built
    from and every figure it shows, mart rows included: the same snapshot
    never mails the pack twice; a corrected statement or a changed figure
    makes a new snapshot and a new pack version, mailed once.
    """
    _create_outbox(warehouse)
    key = f"meeting_pack:{period}:{snapshot}:{language}"
    earlier = warehouse.query(
        "select message_key from ops.outbox where kind = 'meeting_pack' "
        "and period = ? order by version",
        (period,),
    )
    if any(row[0] == key for row in earlier):
        logger.info("The %s meeting pack %s was queued before", period, snapshot)
        return QueueReport(0, ())
    recipient = Recipient(settings.ops_email, None, language)
    with warehouse.transaction():
        warehouse.execute(
            "insert into ops.outbox values "
            "(?, 'meeting_pack', null, ?, ?, ?, ?, ?, ?, 'pending', 0, null, ?, null)",
            (
                key,
                period,
                len(earlier) + 1,
                snapshot,
                str(html_path),
                json.dumps([recipient.__dict__], ensure_ascii=False),
                message_id_for(key, _mail_domain(settings)),
                _now(),
            ),
        )
    logger.info(
        "Queued the %s meeting pack v%d (snapshot %s) for %s",
        period,
        len(earlier) + 1,
        snapshot,
        settings.ops_email,
    )
    return QueueReport(1, ())


MEETING_PACK_TEXT: dict[Language, tuple[str, str]] = {
    "zh-CN": (
        "【渠道会议资料】{period} 第 {version} 版",
        "{period} 渠道季度会议资料（第 {version} 版）见附件：网页版、Excel 和 PDF。"
        "内部资料，请勿转发给合作伙伴。",
    ),
    "en": (
        "[channelops] Channel meeting pack {period} v{version}",
        "The {period} channel meeting pack (version {version}) is attached as "
        "HTML, Excel and PDF. Internal: do not forward to partners.",
    ),
}
_ATTACHMENT_TYPES = {
    ".html": "text/html",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pdf": "application/pdf",
}


def _render_meeting_pack(row: dict[str, Any]) -> OutgoingMessage:
    html_path = Path(row["document_path"])
    recipients = _recipients(row)
    subject, text = MEETING_PACK_TEXT[recipients[0].language]
    values = {"period": row["period"], "version": row["version"]}
    return OutgoingMessage(
        key=row["message_key"],
        message_id=row["message_id"],
        to=recipients,
        subject=subject.format(**values),
        html=html_path.read_text(encoding="utf-8"),
        text=text.format(**values),
        attachments=tuple(
            Attachment(path.name, path.read_bytes(), mime)
            for suffix, mime in _ATTACHMENT_TYPES.items()
            if suffix != ".html"
            for path in (html_path.with_suffix(suffix),)
        ),
    )


_RENDERERS: dict[str, Callable[[dict[str, Any]], OutgoingMessage]] = {
    "statement": render_statement_row,
    "scorecard": _render_scorecard,
    "meeting_pack": _render_meeting_pack,
}


def statement_from_document(
    document: dict[str, Any],
    *,
    version: int,
    content_hash: str,
    language: Language,
    previous: dict[str, Any] | None = None,
) -> Statement:
    """The mail's view of a published statement document.

    ``previous`` is the published file of the version this one replaces;
    with it the statement says what changed. Fields a document may lack
    (line kinds, explanations, carry-forward) default to a plain rebate.
    """
    scorecard = document.get("scorecard")
    total = Decimal(document["total_amount"])
    return Statement(
        partner_id=document["partner"]["partner_id"],
        partner_name=document["partner"]["partner_name"],
        period=document["period"],
        version=version,
        currency=document["currency"],
        net_sales=Decimal(document["net_sales"]),
        lines=tuple(
            _statement_line(line, document["currency"], language)
            for line in document["lines"]
        ),
        total=total,
        content_hash=content_hash,
        scorecard=(
            None if scorecard is None else _scorecard_summary(scorecard, language)
        ),
        carried_forward=Decimal(document.get("carried_forward_amount") or "0.00"),
        changes=_changes(previous, document, language),
    )


def _statement_line(
    line: dict[str, Any], currency: str, language: Language
) -> StatementLine:
    calculation = line["calculation"]
    return StatementLine(
        line_no=line["line_no"],
        program_id=line["program_id"],
        program_name=line["program_name"],
        rule=RULE_TEXT[language].get(calculation, calculation),
        basis_amount=Decimal(line["basis_amount"]),
        tier=line["tier_name"],
        rate=Decimal(line["rate"]),
        amount=Decimal(line["amount"]),
        source_line_count=line["source_line_count"],
        kind=line.get("line_kind") or "program",
        explanation=line_explanation(line, language),
        source_line_ids=tuple(line.get("source_line_ids", ())),
        rate_is_per_unit=line.get("basis") in COUNTED_BASES,
    )


def _changes(
    previous: dict[str, Any] | None, document: dict[str, Any], language: Language
) -> VersionChanges | None:
    """Program by program, against the version this one replaces.

    A document that publishes only deltas (``supersedes_version``, each line
    with what was published before) says so itself; any other is compared
    with the previous version's published file.
    """
    if "supersedes_version" in document:
        return _delta_changes(document, language)
    if previous is None:
        return None
    before = _amounts_by_program(previous["document"])
    after = _amounts_by_program(document)
    changed = tuple(
        LineChange(
            program_id=program,
            program_name=(after.get(program) or before[program])[0],
            previous_amount=before[program][1] if program in before else None,
            amount=after[program][1] if program in after else None,
        )
        for program in sorted(before.keys() | after.keys())
        if before.get(program, (None, None))[1] != after.get(program, (None, None))[1]
    )
    reason = document.get("change_reason") or document.get("reason")
    return VersionChanges(
        previous_version=previous["version"],
        previous_total=Decimal(previous["document"]["total_amount"]),
        total=Decimal(document["total_amount"]),
        lines=changed,
        reason=None if reason is None else change_reason(str(reason), language),
    )


def _delta_changes(document: dict[str, Any], language: Language) -> VersionChanges:
    lines = []
    for line in document["lines"]:
        before = Decimal(line.get("previously_published_amount") or ZERO)
        settled = line.get("settled_amount")
        after = before + Decimal(line["amount"]) if settled is None else settled
        lines.append(
            LineChange(
                program_id=line["program_id"],
                program_name=line["program_name"],
                previous_amount=before if before else None,
                amount=None if line.get("line_kind") == "withdrawn" else Decimal(after),
            )
        )
    total = Decimal(document.get("settlement_total_amount", document["total_amount"]))
    reason = document.get("reason")
    return VersionChanges(
        previous_version=int(document["supersedes_version"]),
        previous_total=total - Decimal(document["total_amount"]),
        total=total,
        lines=tuple(lines),
        reason=None if reason is None else change_reason(str(reason), language),
    )


def _amounts_by_program(document: dict[str, Any]) -> dict[str, tuple[str, Decimal]]:
    amounts: dict[str, tuple[str, Decimal]] = {}
    for line in document["lines"]:
        name, amount = amounts.get(line["program_id"], (line["program_name"], ZERO))
        amounts[line["program_id"]] = (name, amount + Decimal(line["amount"]))
    return amounts


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
