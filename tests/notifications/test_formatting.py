"""Amounts, rates, periods and rank bands print the way partners read them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from notifications.documents import DocumentError
from notifications.formatting import (
    format_money,
    format_percent,
    period_label,
    rank_band,
)


@pytest.mark.parametrize(
    ("amount", "currency", "printed"),
    [
        ("1234567.80", "CNY", "¥1,234,567.80"),
        ("1234567.8", "CNY", "¥1,234,567.80"),
        ("0", "CNY", "¥0.00"),
        ("999.99", "CNY", "¥999.99"),
        ("-1500.50", "CNY", "-¥1,500.50"),
        ("1234.5", "USD", "USD 1,234.50"),
        ("12345678901.23", "EUR", "EUR 12,345,678,901.23"),
    ],
)
def test_format_money_should_print_separators_and_exactly_two_places(
    amount: str, currency: str, printed: str
) -> None:
    assert format_money(Decimal(amount), currency) == printed


def test_format_money_should_refuse_to_round_an_amount_below_the_fen() -> None:
    with pytest.raises(DocumentError, match="round half-up to 0.01 first"):
        format_money(Decimal("0.005"), "CNY")


@pytest.mark.parametrize(
    ("fraction", "printed"),
    [("0.025", "2.5%"), ("0.10", "10%"), ("1", "100%"), ("0.0005", "0.05%")],
)
def test_format_percent_should_keep_significant_digits_only(
    fraction: str, printed: str
) -> None:
    assert format_percent(Decimal(fraction)) == printed


@pytest.mark.parametrize(
    ("period", "zh", "en"),
    [
        ("2026Q3", "2026年第3季度", "2026 Q3"),
        ("2026-09", "2026年9月", "2026-09"),
        ("FY2026", "FY2026", "FY2026"),
    ],
)
def test_period_label_should_read_naturally_in_each_language(
    period: str, zh: str, en: str
) -> None:
    assert (period_label(period, "zh-CN"), period_label(period, "en")) == (zh, en)


@pytest.mark.parametrize(
    ("rank", "zh", "en"),
    [
        (1, "前 10%", "top 10%"),
        (4, "前 10%", "top 10%"),
        (5, "前 25%", "top 25%"),
        (20, "前 50%", "top 50%"),
        (21, "后 50%", "bottom 50%"),
        (None, None, None),
    ],
)
def test_rank_band_of_forty_partners_should_name_the_band_not_the_rank(
    rank: int | None, zh: str | None, en: str | None
) -> None:
    assert (rank_band(rank, 40, "zh-CN"), rank_band(rank, 40, "en")) == (zh, en)
