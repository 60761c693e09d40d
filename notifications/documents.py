"""The documents partner mail is made of: statements, recipients and messages.

Frozen dataclasses that the outbox (``channelops.outbox``) fills in from
published statement documents and that ``render`` and ``mailer`` read. Money
is ``decimal.Decimal`` at fen precision (0.01), never a float. A statement
checks its own accounting identity when it is built (the total is the sum of
its lines), so every rendered statement keeps the promise its footer makes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from channelops.errors import ChannelopsError

Language = Literal["zh-CN", "en"]
LANGUAGES: tuple[Language, ...] = ("zh-CN", "en")

# Statement amounts are settled in fen: every printed amount has two places.
FEN = Decimal("0.01")

_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
# An addr-spec with no spaces or angle brackets; full RFC 5322 is not needed
# to catch a pasted display name or a missing domain.
_EMAIL = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+")
_MESSAGE_ID = re.compile(r"<[^<>\s@]+@[^<>\s@]+>")


class DocumentError(ChannelopsError, ValueError):
    """A statement or message is inconsistent; the message names the field."""


@dataclass(frozen=True)
class StatementLine:
    """One rebate program's result for a partner in a period."""

    line_no: int
    program_id: str
    program_name: str
    rule: str
    basis_amount: Decimal
    tier: str
    rate: Decimal
    amount: Decimal
    source_line_count: int
    # What the partner needs to check the amount: accumulation, what was
    # entitled and carried, and the order lines behind it (drill-down).
    explanation: str = ""
    source_line_ids: tuple[str, ...] = ()
    # On a quantity basis the rate is an amount per unit, not a percentage.
    rate_is_per_unit: bool = False


@dataclass(frozen=True)
class ScorecardMetric:
    """One weighted metric of a scorecard; ``value`` is already formatted."""

    name: str
    label_zh: str
    label_en: str
    value: str
    weight: Decimal


@dataclass(frozen=True)
class ScorecardSummary:
    """The partner's own scorecard result; no other partner's data."""

    score: Decimal | None
    tier: str
    rank: int | None
    partner_count: int
    metrics: tuple[ScorecardMetric, ...]

    def __post_init__(self) -> None:
        if self.rank is not None and not 1 <= self.rank <= self.partner_count:
            raise DocumentError(
                f"scorecard rank must be between 1 and partner_count "
                f"({self.partner_count}), received {self.rank!r}; "
                "pass rank=None for an unranked partner"
            )


@dataclass(frozen=True)
class Statement:
    """A rebate statement: one partner, one period, one version."""

    partner_id: str
    partner_name: str
    period: str
    version: int
    currency: str
    net_sales: Decimal
    lines: tuple[StatementLine, ...]
    total: Decimal
    content_hash: str
    scorecard: ScorecardSummary | None

    def __post_init__(self) -> None:
        where = f"statement {self.partner_id} {self.period} v{self.version}"
        if self.version < 1:
            raise DocumentError(
                f"{where}: version must be 1 or more, received {self.version!r}"
            )
        if not _CURRENCY_CODE.fullmatch(self.currency):
            raise DocumentError(
                f"{where}: currency must be an ISO 4217 code such as 'CNY', "
                f"received {self.currency!r}"
            )
        _require_fen(self.net_sales, f"{where} net_sales")
        _require_fen(self.total, f"{where} total")
        for line in self.lines:
            _require_fen(line.basis_amount, f"{where} line {line.line_no} basis")
            _require_fen(line.amount, f"{where} line {line.line_no} amount")
        _require_increasing_line_numbers(self.lines, where)
        _require_total_is_sum(self, where)


@dataclass(frozen=True)
class Recipient:
    """A partner contact; ``language`` picks the templates."""

    email: str
    name: str | None
    language: Language

    def __post_init__(self) -> None:
        if not self.email.isascii() or not _EMAIL.fullmatch(self.email):
            raise DocumentError(
                f"recipient email must be a plain ASCII address like "
                f"'finance@partner.cn', received {self.email!r}; internationalised "
                "addresses need SMTPUTF8, which the mailer does not use"
            )
        if self.language not in LANGUAGES:
            raise DocumentError(
                f"recipient {self.email!r}: language must be one of {LANGUAGES}, "
                f"received {self.language!r}"
            )


@dataclass(frozen=True)
class Attachment:
    """A file attached to a message."""

    filename: str
    content: bytes
    mime_type: str

    def __post_init__(self) -> None:
        if self.mime_type.count("/") != 1:
            raise DocumentError(
                f"attachment {self.filename!r}: mime_type must look like "
                f"'application/pdf', received {self.mime_type!r}"
            )


@dataclass(frozen=True)
class OutgoingMessage:
    """A rendered message, ready for the mailer.

    ``key`` is the caller's idempotency key (opaque here); ``message_id`` is
    the full Message-ID header value, angle brackets included.
    """

    key: str
    message_id: str
    to: tuple[Recipient, ...]
    subject: str
    html: str
    text: str
    attachments: tuple[Attachment, ...]

    def __post_init__(self) -> None:
        if not self.key:
            raise DocumentError("message key must not be empty")
        if not _MESSAGE_ID.fullmatch(self.message_id):
            raise DocumentError(
                f"message {self.key!r}: message_id must look like "
                f"'<id@domain>', received {self.message_id!r}; "
                "use message_id_for(key, domain)"
            )
        if not self.to:
            raise DocumentError(f"message {self.key!r} has no recipients")
        if "\r" in self.subject or "\n" in self.subject:
            raise DocumentError(
                f"message {self.key!r}: subject must be one line, "
                f"received {self.subject!r}"
            )


def message_id_for(key: str, domain: str) -> str:
    """A Message-ID derived from the idempotency key, the same on every retry.

    A stable id per logical message lets a duplicate (the at-least-once window
    of SMTP) be recognised by the receiving side.
    """
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def _require_fen(value: Decimal, what: str) -> None:
    if not value.is_finite() or value != value.quantize(FEN):
        raise DocumentError(
            f"{what} must be a Decimal with at most two places (fen), "
            f"received {value!r}; round half-up to 0.01 before building "
            "the statement"
        )


def _require_increasing_line_numbers(
    lines: tuple[StatementLine, ...], where: str
) -> None:
    numbers = [line.line_no for line in lines]
    if numbers != sorted(set(numbers)):
        raise DocumentError(
            f"{where}: line numbers must be unique and increasing, "
            f"received {numbers!r}; order the lines by line_no"
        )


def _require_total_is_sum(statement: Statement, where: str) -> None:
    line_sum = sum((line.amount for line in statement.lines), Decimal("0"))
    if statement.total != line_sum:
        raise DocumentError(
            f"{where}: total must equal the sum of the printed lines "
            f"({line_sum}), received {statement.total!r}; "
            "round each line first, then add the rounded lines"
        )
