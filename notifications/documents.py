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
# What a scorecard metric without data does: left out, or 0 points.
MissingMetrics = Literal["reweight", "zero"]
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


# Line kinds a statement shows in its own section; other kinds are programs.
ADJUSTMENT_KINDS = frozenset({"adjustment", "clawback", "true_up"})


@dataclass(frozen=True)
class StatementLine:
    """One rebate program's result (or an adjustment) for a partner in a period.

    ``kind`` is ``program`` for a computed rebate and ``adjustment``,
    ``clawback`` or ``true_up`` for corrections; ``explanation`` says in the
    partner's language why the amount is what it is (e.g. already settled
    amounts subtracted, the approved reason of an adjustment).
    """

    line_no: int
    program_id: str
    program_name: str
    rule: str
    basis_amount: Decimal
    tier: str
    rate: Decimal
    amount: Decimal
    source_line_count: int
    kind: str = "program"
    # What the partner needs to check the amount: accumulation, what was
    # entitled and carried, and the order lines behind it (drill-down).
    explanation: str = ""
    source_line_ids: tuple[str, ...] = ()
    # On a quantity basis the rate is an amount per unit, not a percentage.
    rate_is_per_unit: bool = False

    @property
    def is_adjustment(self) -> bool:
        """An adjustment, clawback or true-up, or a program line taking money back."""
        return self.kind in ADJUSTMENT_KINDS or self.amount < 0


@dataclass(frozen=True)
class LineChange:
    """One program whose amount differs from the previous version; None = absent."""

    program_id: str
    program_name: str
    previous_amount: Decimal | None
    amount: Decimal | None

    @property
    def difference(self) -> Decimal:
        return (self.amount or Decimal("0.00")) - (
            self.previous_amount or Decimal("0.00")
        )


@dataclass(frozen=True)
class VersionChanges:
    """What a corrected statement changes against the version it replaces.

    ``previous_total`` and ``total`` are the settlement's full totals before
    and after; a version that publishes only deltas has a ``Statement.total``
    of the deltas, so the full total is kept here.
    """

    previous_version: int
    previous_total: Decimal
    total: Decimal
    lines: tuple[LineChange, ...]
    reason: str | None = None


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
    # A negative balance (clawbacks above the rebate) is carried to the next
    # period instead of being paid; shown, never part of the total.
    carried_forward: Decimal = Decimal("0.00")
    changes: VersionChanges | None = None

    @property
    def program_lines(self) -> tuple[StatementLine, ...]:
        return tuple(line for line in self.lines if not line.is_adjustment)

    @property
    def adjustment_lines(self) -> tuple[StatementLine, ...]:
        return tuple(line for line in self.lines if line.is_adjustment)

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
        _require_fen(self.carried_forward, f"{where} carried_forward")
        if self.changes is not None and self.changes.previous_version >= self.version:
            raise DocumentError(
                f"{where}: changes must compare with an earlier version, "
                f"received v{self.changes.previous_version!r}"
            )
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
class InlineImage:
    """An image the HTML shows through ``cid:<cid>``; not a download."""

    cid: str
    filename: str
    content: bytes
    mime_type: str = "image/png"

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9._-]+@[A-Za-z0-9.-]+", self.cid):
            raise DocumentError(
                f"inline image {self.filename!r}: cid must look like "
                f"'trend.P0001@channelops', received {self.cid!r}"
            )


@dataclass(frozen=True)
class MetricResult:
    """One scorecard metric as a partner reads it, with the rule that scored it."""

    name: str
    label: str
    value: str
    weight: Decimal
    points: Decimal | None
    rule: str


@dataclass(frozen=True)
class TrendPoint:
    period: str
    score: Decimal | None


@dataclass(frozen=True)
class PartnerScorecard:
    """One partner's scorecard for a month or quarter; no other partner's data.

    ``trend`` holds this partner's own scores for the latest periods, oldest
    first, ending with ``period``; ``tier_rules`` the tier thresholds in the
    partner's language; ``missing_metrics`` and ``min_metrics`` the scoring
    rules the e-mail states (None for a document stored without them).
    """

    partner_id: str
    partner_name: str
    period: str
    score: Decimal | None
    tier: str
    rank: int | None
    partner_count: int
    metrics: tuple[MetricResult, ...]
    trend: tuple[TrendPoint, ...]
    tier_rules: tuple[str, ...]
    content_hash: str
    missing_metrics: MissingMetrics | None
    min_metrics: int | None

    def __post_init__(self) -> None:
        if self.rank is not None and not 1 <= self.rank <= self.partner_count:
            raise DocumentError(
                f"scorecard {self.partner_id} {self.period}: rank must be "
                f"between 1 and {self.partner_count}, received {self.rank!r}"
            )
        if self.trend and self.trend[-1].period != self.period:
            raise DocumentError(
                f"scorecard {self.partner_id} {self.period}: the trend must end "
                f"with the scorecard's period, received {self.trend[-1].period!r}"
            )

    def weakest(self, count: int = 2) -> tuple[MetricResult, ...]:
        """The metrics with the fewest points; a heavier weight first on ties."""
        scored = [m for m in self.metrics if m.points is not None]
        scored.sort(key=lambda m: (m.points, -m.weight, m.name))
        return tuple(scored[:count])


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
    inline_images: tuple[InlineImage, ...] = ()

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
