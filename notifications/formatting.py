"""How amounts, rates, periods and ranks are printed in partner mail.

Shared by the e-mail templates and the XLSX attachment so both show the same
strings. Everything works on ``Decimal``; no value passes through a float.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from notifications.documents import FEN, DocumentError, Language

# Currencies with a symbol partners expect; any other prints its ISO code.
CURRENCY_SYMBOLS = {"CNY": "¥"}

# Rank bands in percent, best first: a partner sees its band, never its
# neighbours' ranks or the field's size.
RANK_BANDS = (10, 25, 50)

_QUARTER = re.compile(r"(\d{4})Q([1-4])")
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


def format_money(amount: Decimal, currency: str) -> str:
    """``¥1,234,567.80`` for CNY, ``USD 1,234.50`` otherwise; sign first."""
    if not amount.is_finite() or amount != amount.quantize(FEN):
        raise DocumentError(
            f"amount must have at most two places (fen) to be printed, "
            f"received {amount!r}; round half-up to 0.01 first"
        )
    sign = "-" if amount < 0 else ""
    symbol = CURRENCY_SYMBOLS.get(currency)
    prefix = symbol if symbol is not None else f"{currency} "
    return f"{sign}{prefix}{abs(amount):,.2f}"


def format_percent(fraction: Decimal) -> str:
    """``0.025`` as ``2.5%``: every significant digit, no trailing zeros."""
    return f"{format_plain(fraction * 100)}%"


def format_plain(number: Decimal) -> str:
    """A decimal without exponent and without trailing zeros after the point."""
    text = f"{number:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_points(points: Decimal) -> str:
    """Scorecard points to one decimal place, half-up: ``86.45`` as ``86.5``."""
    return format_plain(points.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def period_label(period: str, language: Language) -> str:
    """``2026Q3`` as ``2026年第3季度`` or ``2026 Q3``; unknown forms as given."""
    quarter = _QUARTER.fullmatch(period)
    if quarter is not None:
        year, number = quarter.groups()
        return f"{year}年第{number}季度" if language == "zh-CN" else f"{year} Q{number}"
    month = _MONTH.fullmatch(period)
    if month is not None:
        year, number = month.groups()
        return f"{year}年{int(number)}月" if language == "zh-CN" else period
    return period


def rank_band(rank: int | None, partner_count: int, language: Language) -> str | None:
    """The band a rank falls in, e.g. ``前 10%`` / ``top 10%``; None if unranked."""
    if rank is None or partner_count < 1:
        return None
    for band in RANK_BANDS:
        if rank * 100 <= band * partner_count:
            return f"前 {band}%" if language == "zh-CN" else f"top {band}%"
    lower = 100 - RANK_BANDS[-1]
    return f"后 {lower}%" if language == "zh-CN" else f"bottom {lower}%"
