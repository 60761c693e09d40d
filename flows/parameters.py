"""The values an operator types into a deployment's Run form, and their limits.

The flows annotate their parameters with these types. Prefect turns the
annotations into the deployment's JSON schema, which the UI renders as a form
(a date picker, a list of partner codes, a checkbox) and which the Prefect
server checks when a run is requested: a value outside a pattern or a range
is refused there, before a run exists. Only the schema travels to the server,
so every limit is a pattern, a length or a range, never a Python validator;
rules that tie two fields together are checked by :func:`settlement_quarter`
and :func:`backfill_quarters` when the run starts, before any work.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field

from channelops.errors import ChannelopsError
from channelops.periods import Month, Quarter, last_closed_quarter

# Quarters like 2025Q3; the years a channel business can have data for.
QUARTER_PATTERN = r"^[12][0-9]{3}Q[1-4]$"
# Scorecard months like 2026-11.
MONTH_PATTERN = r"^[12][0-9]{3}-(0[1-9]|1[0-2])$"
# ISO dates. The server does not check JSON's "date" format, so a pattern
# refuses month 13 or day 32 there; Python refuses 2025-02-30 at run start.
DATE_PATTERN = r"^[12][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
# Partner codes as partners' files carry them: letters (Chinese too),
# digits, '-', '_' and '.'; they also name folders of published statements.
PARTNER_ID_PATTERN = r"^[\w.-]{1,64}$"
# A rerun for a few partners after finance fixed their files; more than this
# is a full run.
MAX_PARTNERS = 200
# An operator's reference for a resend, such as a ticket number.
REQUEST_PATTERN = r"^[\w.:-]{3,64}$"
# A reason worth keeping in the record: at least four visible characters
# (四个汉字 is a reason), never only spaces.
REASON_PATTERN = r"^\s*(\S\s*){4,}$"
MAX_REASON_CHARS = 500
# A statement never reaches this many versions; the bound keeps typos out.
MAX_VERSION = 9999
# The longest backfill one run takes on: ten years of quarters.
MAX_BACKFILL_QUARTERS = 40

Period = Annotated[str, Field(pattern=QUARTER_PATTERN, examples=["2026Q3"])]
ScorecardMonth = Annotated[str, Field(pattern=MONTH_PATTERN, examples=["2026-11"])]
AsOfDate = Annotated[
    date, Field(json_schema_extra={"pattern": DATE_PATTERN}, examples=["2026-10-10"])
]
PartnerId = Annotated[str, Field(pattern=PARTNER_ID_PATTERN, examples=["P0007"])]
PartnerSubset = Annotated[
    frozenset[PartnerId], Field(min_length=1, max_length=MAX_PARTNERS)
]
StatementVersion = Annotated[int, Field(ge=1, le=MAX_VERSION)]
RequestReference = Annotated[
    str, Field(pattern=REQUEST_PATTERN, examples=["OPS-2026-0142"])
]
WarningOverrideReason = Annotated[
    str,
    Field(
        pattern=REASON_PATTERN,
        max_length=MAX_REASON_CHARS,
        examples=["财务已核对退货数据 / returns checked by finance"],
    ),
]


# What each pattern asks for, in an operator's words: the command line shows
# these instead of the regular expressions Prefect's refusal quotes.
PATTERN_HINTS = {
    QUARTER_PATTERN: "a quarter like 2026Q3 (capital Q, quarter 1 to 4)",
    MONTH_PATTERN: "a month like 2026-11",
    DATE_PATTERN: "a date like 2026-10-10",
    PARTNER_ID_PATTERN: "a partner code like P0007 (letters, digits, - _ .)",
    REQUEST_PATTERN: "a reference of 3 to 64 letters, digits or - _ . : "
    "(a ticket number such as OPS-2026-0142)",
    REASON_PATTERN: "a reason of at least four visible characters",
}


def explain_refusal(message: str) -> str:
    """A parameter refusal with each quoted pattern replaced by what it asks for."""
    for pattern, hint in PATTERN_HINTS.items():
        message = message.replace(f"String should match pattern '{pattern}'", hint)
    return message


class InvalidParameters(ChannelopsError):
    """A run's parameters contradict each other; nothing was done."""


def settlement_quarter(period: str | None, as_of: date | None, today: date) -> Quarter:
    """The quarter a settlement run settles: ``period``, else the last closed."""
    if period is not None and as_of is not None:
        raise InvalidParameters(
            f"period {period!r} and as_of {as_of.isoformat()!r} were both given; "
            "give the quarter to settle, or a date to settle the quarter closed "
            "before it, not both"
        )
    quarter = Quarter.parse(period) if period else last_closed_quarter(as_of or today)
    require_closed(quarter, today)
    return quarter


def require_closed(quarter: Quarter, today: date) -> None:
    """Refuse a quarter that has not ended: its sales are still coming in."""
    if quarter.last_day >= today:
        raise InvalidParameters(
            f"{quarter} has not closed yet: it ends {quarter.last_day.isoformat()} "
            f"and today is {today.isoformat()} (Beijing time); settle it after "
            "the quarter ends, or choose an earlier quarter"
        )


def scorecard_month(period: str | None, today: date) -> Month:
    """The month a scorecard run mails: ``period``, else the last closed month."""
    month = Month.parse(period) if period else Month.containing(today).previous()
    if month.last_day >= today:
        raise InvalidParameters(
            f"{month} has not closed yet: it ends {month.last_day.isoformat()} "
            f"and today is {today.isoformat()} (Beijing time); mail its "
            "scorecards after the month ends, or choose an earlier month"
        )
    return month


def backfill_quarters(
    first_period: str, last_period: str, today: date
) -> list[Quarter]:
    """Every quarter from ``first_period`` to ``last_period``, oldest first."""
    first, last = Quarter.parse(first_period), Quarter.parse(last_period)
    require_closed(last, today)
    if last < first:
        raise InvalidParameters(
            f"last_period {last_period!r} comes before first_period "
            f"{first_period!r}; give the oldest quarter first"
        )
    count = (last.year - first.year) * 4 + last.number - first.number + 1
    if count > MAX_BACKFILL_QUARTERS:
        raise InvalidParameters(
            f"{first_period}..{last_period} is {count} quarters; one backfill "
            f"takes at most {MAX_BACKFILL_QUARTERS}: split it"
        )
    quarters = [first]
    while len(quarters) < count:
        quarters.append(quarters[-1].next())
    return quarters
