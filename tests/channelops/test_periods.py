"""Tests for channelops.periods: settlement quarters."""

from __future__ import annotations

from datetime import date

import pytest

from channelops.periods import Quarter, last_closed_quarter, today_in


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2025Q3", Quarter(2025, 3)), (" 2025q1 ", Quarter(2025, 1))],
)
def test_parse_should_read_a_quarter_label(text: str, expected: Quarter) -> None:
    assert Quarter.parse(text) == expected


@pytest.mark.parametrize("text", ["2025-Q3", "2025Q5", "2025Q0", "25Q3", "Q3 2025", ""])
def test_parse_of_a_non_quarter_should_show_the_value_and_the_form(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        Quarter.parse(text)

    assert str(caught.value) == (
        f"period {text!r} is not a quarter; write it like '2025Q3'"
    )


def test_label_and_str_should_round_trip_through_parse() -> None:
    quarter = Quarter(2025, 3)

    assert quarter.label == str(quarter) == "2025Q3"
    assert Quarter.parse(quarter.label) == quarter


@pytest.mark.parametrize(
    ("quarter", "first", "last"),
    [
        (Quarter(2025, 1), date(2025, 1, 1), date(2025, 3, 31)),
        (Quarter(2025, 2), date(2025, 4, 1), date(2025, 6, 30)),
        (Quarter(2025, 3), date(2025, 7, 1), date(2025, 9, 30)),
        (Quarter(2025, 4), date(2025, 10, 1), date(2025, 12, 31)),
    ],
)
def test_first_and_last_day_should_bound_the_quarter(
    quarter: Quarter, first: date, last: date
) -> None:
    assert (quarter.first_day, quarter.last_day) == (first, last)


def test_next_and_previous_should_cross_the_year_boundary() -> None:
    assert Quarter(2025, 4).next() == Quarter(2026, 1)
    assert Quarter(2026, 1).previous() == Quarter(2025, 4)
    assert Quarter(2025, 2).next() == Quarter(2025, 3)
    assert Quarter(2025, 3).previous() == Quarter(2025, 2)


def test_quarters_should_sort_in_time_order() -> None:
    labels = ["2026Q1", "2025Q4", "2025Q1"]

    assert [str(q) for q in sorted(map(Quarter.parse, labels))] == [
        "2025Q1",
        "2025Q4",
        "2026Q1",
    ]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 1, 1), "2024Q4"),
        (date(2025, 3, 31), "2024Q4"),
        (date(2025, 4, 1), "2025Q1"),
        (date(2025, 12, 31), "2025Q3"),
    ],
)
def test_last_closed_quarter_should_be_the_one_before_the_current(
    day: date, expected: str
) -> None:
    assert last_closed_quarter(day).label == expected


def test_containing_should_find_the_quarter_of_a_day() -> None:
    assert Quarter.containing(date(2025, 9, 30)) == Quarter(2025, 3)
    assert Quarter.containing(date(2025, 10, 1)) == Quarter(2025, 4)


def test_today_in_should_give_a_date_in_the_zone() -> None:
    assert isinstance(today_in("Asia/Shanghai"), date)
