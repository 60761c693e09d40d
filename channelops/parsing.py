"""Turn one source cell into a typed contract value, or say why it cannot be.

Every rule here is exact: amounts become ``Decimal`` with the contract's
scale (more decimals are refused unless the mapping states a rounding),
local wall-clock times become UTC, and enumerations are checked against the
contract after the mapping's translations.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from channelops.contract import SCALES, ContractField, FieldType
from channelops.mapping import DatasetMapping, FieldSource

EMAIL_PATTERN = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "是", "t"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "否", "f"})
# decimal(18, s) holds 18 digits in all.
DECIMAL_PRECISION = 18
ROUNDINGS = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}


class FieldProblem(ValueError):
    """A cell's value does not fit its contract field."""

    def __init__(self, value: str | None, reason: str) -> None:
        super().__init__(reason)
        self.value = value
        self.reason = reason


@dataclass(frozen=True)
class ParseContext:
    mapping: DatasetMapping
    timezone: ZoneInfo
    currency: str


def cell_text(raw: Any) -> str | None:
    """A cell as text the way a person reads it (XLSX numbers without '.0')."""
    if type(raw) is str:
        return raw.strip()
    if raw is None:
        return None
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, datetime):
        return raw.isoformat(sep=" ")
    return str(raw).strip()


def source_value(source: FieldSource, cells: dict[str, Any]) -> Any:
    """The raw value a field takes from a row, before typing."""
    if source.value is not None:
        return source.value
    if source.column is not None:
        return cells.get(source.column)
    assert source.template is not None
    parts = {name: cell_text(cells.get(name)) or "" for name in source.columns_used()}
    return source.template.format(**parts)


def parse_field(
    field: ContractField, source: FieldSource, raw: Any, context: ParseContext
) -> Any:
    """The typed value of ``field``, or ``FieldProblem`` naming what is wrong."""
    text = cell_text(raw)
    if text is None or text in context.mapping.null_values:
        text = source.default
    if text is None or text == "":
        if field.required:
            raise FieldProblem(None, "required value is missing")
        return None
    if source.values:
        text = source.values.get(text, text)
    value = _typed(field, raw, text, source, context)
    _check_bounds(field, value, text)
    return value


# Distinct source texts of one field whose typed value a reader remembers;
# ids and amounts have too many to be worth it, dates and prices do not.
READER_CACHE_LIMIT = 50_000
_MISSING = object()


def field_reader(
    field: ContractField, source: FieldSource, context: ParseContext
) -> Callable[[dict[str, Any]], Any]:
    """``parse_field(field, source, source_value(source, cells), context)``, fast.

    The work that depends only on the field and its mapping (null spellings,
    template columns, which checks apply) is done once per file instead of
    once per cell.
    """
    read = value_reader(field, source, context)
    column = source.column
    if column is not None:
        return lambda cells: read(cells.get(column))
    if source.value is not None:
        fixed = source.value
        return lambda _cells: read(fixed)
    assert source.template is not None
    template, columns = source.template, source.columns_used()

    def from_template(cells: dict[str, Any]) -> Any:
        parts = {name: cell_text(cells.get(name)) or "" for name in columns}
        return read(template.format(**parts))

    return from_template


def value_reader(
    field: ContractField, source: FieldSource, context: ParseContext
) -> Callable[[Any], Any]:
    """``parse_field(field, source, raw, context)``, set up once per file.

    The typed value of a text seen before is reused: for a text cell the
    result depends on nothing but the text.
    """
    nulls = frozenset(context.mapping.null_values)
    default, translations, required = source.default, source.values, field.required
    is_plain_text = (
        field.type is FieldType.TEXT and field.pattern is None and not field.allowed
    )
    known: dict[str, Any] = {}

    def read(raw: Any) -> Any:
        text = raw.strip() if type(raw) is str else cell_text(raw)
        if text is None or text in nulls:
            text = default
        if text is None or text == "":
            if required:
                raise FieldProblem(None, "required value is missing")
            return None
        if translations:
            text = translations.get(text, text)
        if is_plain_text:
            return text
        if not isinstance(raw, str):
            value = _typed(field, raw, text, source, context)
            _check_bounds(field, value, text)
            return value
        remembered = known.get(text, _MISSING)
        if remembered is _MISSING:
            try:
                remembered = _typed(field, raw, text, source, context)
                _check_bounds(field, remembered, text)
            except FieldProblem as problem:
                remembered = problem
            if len(known) < READER_CACHE_LIMIT:
                known[text] = remembered
        if isinstance(remembered, FieldProblem):
            raise FieldProblem(remembered.value, remembered.reason)
        return remembered

    return read


def _typed(
    field: ContractField,
    raw: Any,
    text: str,
    source: FieldSource,
    context: ParseContext,
) -> Any:
    kind = field.type
    if kind in SCALES:
        separator = context.mapping.thousands_separator
        return _decimal(raw, text, SCALES[kind], source, separator)
    if kind is FieldType.DATE:
        return _date(raw, text, context.mapping.date_formats)
    if kind is FieldType.TIMESTAMP:
        return _timestamp(raw, text, context)
    if kind is FieldType.EMAIL:
        if not EMAIL_PATTERN.match(text):
            raise FieldProblem(text, "is not an e-mail address")
        return text
    if kind is FieldType.CURRENCY:
        return _currency(text, context.currency)
    if kind is FieldType.BOOLEAN:
        return _boolean(text)
    if field.pattern is not None and not re.fullmatch(field.pattern, text):
        raise FieldProblem(
            text, f"is not written like {field.pattern_hint or field.pattern}"
        )
    if field.allowed and text not in field.allowed:
        raise FieldProblem(
            text,
            f"is not one of {list(field.allowed)}; translate it with `values:` "
            "in the source mapping",
        )
    return text


def _decimal(
    raw: Any, text: str, scale: int, source: FieldSource, separator: str | None
) -> Decimal:
    if isinstance(raw, float):
        # XLSX stores numbers as binary floats; spreadsheets show (and mean)
        # at most 15 significant digits, so 0.1+0.2 reads as 0.3.
        text = f"{raw:.{SPREADSHEET_DIGITS}g}"
    cleaned = _ungrouped(text, separator)
    if not isinstance(raw, float) and "e" in cleaned.lower():
        # A spreadsheet's 1.23457E+05 has already lost the cents.
        raise FieldProblem(
            text,
            "is in scientific notation, which spreadsheets use when they have "
            "dropped digits; export the column as a number with all its decimals",
        )
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise FieldProblem(text, "is not a number") from None
    if not number.is_finite():
        raise FieldProblem(text, "is not a finite number")
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    quantum = Decimal(1).scaleb(-scale)
    if -exponent > scale and source.rounding == "reject":
        raise FieldProblem(
            text,
            f"has {-exponent} decimal places, the contract keeps {scale}; "
            "fix the export or set `rounding: half_up` for this field",
        )
    # With `reject` the value already fits the scale, so no rounding happens.
    rounding = ROUNDINGS.get(source.rounding, ROUND_HALF_EVEN)
    try:
        number = number.quantize(quantum, rounding=rounding)
    except InvalidOperation:
        # More digits than Decimal's working precision: far too large anyway.
        raise FieldProblem(text, f"is too large for decimal(18,{scale})") from None
    if len(number.as_tuple().digits) > DECIMAL_PRECISION:
        raise FieldProblem(text, f"is too large for decimal(18,{scale})")
    return number


SPREADSHEET_DIGITS = 15


@functools.cache
def _grouped_number(separator: str) -> re.Pattern[str]:
    mark = re.escape(separator)
    return re.compile(rf"^-?\d{{1,3}}({mark}\d{{3}})+(\.\d+)?$")


def _ungrouped(text: str, separator: str | None) -> str:
    """'1,234,567.80' without its grouping, if the mapping declares ','.

    Grouping that is not declared is refused rather than guessed, since
    '1.234' means one thousand in some locales and one point two in others.
    """
    if separator is not None and _grouped_number(separator).match(text):
        return text.replace(separator, "")
    if separator is None and _grouped_number(",").match(text):
        raise FieldProblem(
            text,
            'has thousands separators; set `thousands_separator: ","` for '
            "this dataset in the source mapping",
        )
    return text


def _date(raw: Any, text: str, formats: list[str]) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    no_such_day = False
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError as error:
            # "day is out of range for month": the format fits, the day does not.
            no_such_day = no_such_day or "out of range" in str(error)
            continue
    if no_such_day:
        raise FieldProblem(
            text, "is not a day of the calendar (such as 30 February); fix the date"
        )
    raise FieldProblem(
        text, f"is not a date in the format(s) {formats}; set `date_formats`"
    )


def _timestamp(raw: Any, text: str, context: ParseContext) -> datetime:
    local: datetime | None = raw if isinstance(raw, datetime) else None
    formats = context.mapping.timestamp_formats
    for fmt in formats if local is None else ():
        try:
            local = datetime.strptime(text, fmt)
            break
        except ValueError:
            continue
    if local is None:
        raise FieldProblem(
            text,
            f"is not a date and time in the format(s) {formats}; "
            "set `timestamp_formats`",
        )
    if local.tzinfo is None:
        local = local.replace(tzinfo=context.timezone)
    return local.astimezone(UTC).replace(tzinfo=None)


def _currency(text: str, expected: str) -> str:
    code = text.upper()
    if not CURRENCY_PATTERN.match(code):
        raise FieldProblem(text, "is not an ISO 4217 currency code such as CNY")
    if code != expected:
        raise FieldProblem(
            text,
            f"is not the settlement currency {expected!r}; convert the amounts "
            "before loading or set CHANNELOPS_CURRENCY",
        )
    return code


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise FieldProblem(text, "is not yes/no (true/false, 是/否)")


def _check_bounds(field: ContractField, value: Any, text: str) -> None:
    if not isinstance(value, Decimal):
        return
    if field.minimum is not None and value < Decimal(field.minimum):
        raise FieldProblem(text, f"is below the minimum {field.minimum}")
    if field.maximum is not None and value > Decimal(field.maximum):
        raise FieldProblem(text, f"is above the maximum {field.maximum}")
