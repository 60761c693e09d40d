"""Tests for channelops.parsing: one source cell to one typed contract value."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from channelops.contract import DATASETS, ContractField, FieldType
from channelops.mapping import DatasetMapping, FieldSource
from channelops.parsing import (
    FieldProblem,
    ParseContext,
    cell_text,
    parse_field,
    source_value,
)

ORDER_LINES = DATASETS["order_lines"]
NET_AMOUNT = ORDER_LINES.field("net_amount")
QUANTITY = ORDER_LINES.field("quantity")
UNIT_PRICE = ORDER_LINES.field("unit_price")
ORDER_DATE = ORDER_LINES.field("order_date")
PRODUCT_ID = ORDER_LINES.field("product_id")
LINE_TYPE = ORDER_LINES.field("line_type")
CURRENCY = ORDER_LINES.field("currency")
CREATED_AT = DATASETS["feedback"].field("created_at")
SATISFACTION = DATASETS["feedback"].field("satisfaction")
EMAIL = DATASETS["partner_contacts"].field("email")
IS_KEY_ACCOUNT = ContractField("is_key_account", FieldType.BOOLEAN, False, "Test.")
COLUMN = FieldSource(column="cell")


def _context(**mapping: Any) -> ParseContext:
    dataset_mapping = DatasetMapping.model_validate(
        {"files": ["export.csv"], "fields": {}, **mapping}
    )
    return ParseContext(dataset_mapping, ZoneInfo("Asia/Shanghai"), "CNY")


def _parse(
    field: ContractField,
    raw: Any,
    source: FieldSource = COLUMN,
    context: ParseContext | None = None,
) -> Any:
    return parse_field(field, source, raw, context or _context())


def _problem(
    field: ContractField,
    raw: Any,
    source: FieldSource = COLUMN,
    context: ParseContext | None = None,
) -> FieldProblem:
    with pytest.raises(FieldProblem) as caught:
        _parse(field, raw, source, context)
    return caught.value


# Money and other exact decimals


def test_money_with_two_places_should_become_an_exact_decimal() -> None:
    value = _parse(NET_AMOUNT, "1140.50")

    assert value == Decimal("1140.50")
    assert str(value) == "1140.50"


def test_money_without_places_should_keep_the_contract_scale() -> None:
    assert str(_parse(NET_AMOUNT, "1140")) == "1140.00"


def test_money_with_three_places_should_be_rejected_naming_places_and_remedy() -> None:
    problem = _problem(NET_AMOUNT, "2.345")

    assert problem.value == "2.345"
    assert "3 decimal places" in problem.reason
    assert "keeps 2" in problem.reason
    assert "`rounding: half_up`" in problem.reason


def test_money_with_trailing_zero_places_should_still_be_rejected() -> None:
    problem = _problem(NET_AMOUNT, "2.340")

    assert "3 decimal places" in problem.reason


@pytest.mark.parametrize(
    ("rounding", "expected"),
    [("half_up", "2.35"), ("half_even", "2.34")],
)
def test_money_with_three_places_and_a_rounding_should_round_as_stated(
    rounding: str, expected: str
) -> None:
    source = FieldSource(column="cell", rounding=rounding)  # type: ignore[arg-type]

    assert str(_parse(NET_AMOUNT, "2.345", source)) == expected


def test_half_even_rounding_should_round_an_odd_cent_up() -> None:
    source = FieldSource(column="cell", rounding="half_even")

    assert str(_parse(NET_AMOUNT, "2.355", source)) == "2.36"


def test_quantity_and_price_should_keep_three_and_four_places() -> None:
    assert str(_parse(QUANTITY, "1.125")) == "1.125"
    assert str(_parse(UNIT_PRICE, "19.9999")) == "19.9999"
    assert "4 decimal places" in _problem(QUANTITY, "1.1250").reason


def test_money_with_declared_thousands_grouping_should_be_accepted() -> None:
    context = _context(thousands_separator=",")
    assert _parse(NET_AMOUNT, "1,234,567.80", context=context) == Decimal("1234567.80")


def test_money_with_undeclared_thousands_grouping_should_name_the_setting() -> None:
    problem = _problem(NET_AMOUNT, "1,234,567.80")
    assert "thousands_separator" in problem.reason


def test_money_grouped_with_a_declared_space_should_be_accepted() -> None:
    context = _context(thousands_separator=" ")
    assert _parse(NET_AMOUNT, "1 234.50", context=context) == Decimal("1234.50")


@pytest.mark.parametrize("text", ["1,2", "1,23", "12,34.5", "1,2345", ",123"])
def test_money_with_misplaced_commas_should_not_be_a_number(text: str) -> None:
    problem = _problem(NET_AMOUNT, text)

    assert problem.value == text
    assert problem.reason == "is not a number"


@pytest.mark.parametrize("text", ["abc", "12元", "1.2.3"])
def test_money_that_is_not_a_number_should_be_rejected(text: str) -> None:
    assert _problem(NET_AMOUNT, text).reason == "is not a number"


@pytest.mark.parametrize("text", ["1e3", "1.23457E+05", "-2.5e-1", "1e30"])
def test_money_in_scientific_notation_should_be_rejected(text: str) -> None:
    problem = _problem(NET_AMOUNT, text)

    assert problem.value == text
    assert problem.reason.startswith("is in scientific notation")


def test_an_xlsx_number_should_still_be_read_from_its_float() -> None:
    assert _parse(NET_AMOUNT, 123456.78) == Decimal("123456.78")


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-inf"])
def test_money_that_is_not_finite_should_be_rejected(text: str) -> None:
    assert _problem(NET_AMOUNT, text).reason == "is not a finite number"


@pytest.mark.parametrize("text", ["1" * 30, "12345678901234567"])
def test_money_too_large_for_the_column_should_be_rejected_not_crash(
    text: str,
) -> None:
    problem = _problem(NET_AMOUNT, text)

    assert problem.reason == "is too large for decimal(18,2)"


def test_money_with_sixteen_integer_digits_should_fit_the_column() -> None:
    assert _parse(NET_AMOUNT, "9999999999999999.99") == Decimal("9999999999999999.99")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [(1234.5, "1234.50"), (0.1, "0.10"), (19.99, "19.99"), (1140.0, "1140.00")],
)
def test_xlsx_float_should_become_the_decimal_the_spreadsheet_showed(
    cell: float, expected: str
) -> None:
    value = _parse(NET_AMOUNT, cell)

    assert isinstance(value, Decimal)
    assert str(value) == expected


def test_xlsx_float_sum_with_binary_noise_should_read_as_the_sheet_shows_it() -> None:
    assert str(_parse(NET_AMOUNT, 0.1 + 0.2)) == "0.30"


def test_xlsx_float_with_more_places_than_the_sheet_shows_should_need_rounding() -> (
    None
):
    problem = _problem(NET_AMOUNT, 1234.565)

    assert "3 decimal places" in problem.reason


def test_xlsx_integer_cell_should_become_an_exact_decimal() -> None:
    assert str(_parse(QUANTITY, 12)) == "12.000"


def test_negative_money_below_the_minimum_should_be_rejected() -> None:
    problem = _problem(NET_AMOUNT, "-5.00")

    assert problem.value == "-5.00"
    assert problem.reason == "is below the minimum 0"


def test_negative_grouped_money_should_be_read_then_held_to_the_minimum() -> None:
    context = _context(thousands_separator=",")
    problem = _problem(NET_AMOUNT, "-1,234.50", context=context)
    assert problem.reason == "is below the minimum 0"


def test_zero_money_should_meet_the_minimum() -> None:
    assert _parse(NET_AMOUNT, "0") == Decimal("0.00")


def test_score_above_the_maximum_should_be_rejected() -> None:
    assert _parse(SATISFACTION, "5") == Decimal("5.0")
    assert _problem(SATISFACTION, "5.1").reason == "is above the maximum 5"
    assert _problem(SATISFACTION, "0.9").reason == "is below the minimum 1"


# Dates and times


def test_date_in_the_default_format_should_be_read() -> None:
    assert _parse(ORDER_DATE, "2025-01-03") == date(2025, 1, 3)


def test_date_in_any_declared_format_should_be_read() -> None:
    context = _context(date_formats=["%Y/%m/%d", "%Y年%m月%d日"])

    assert _parse(ORDER_DATE, "2025/01/03", context=context) == date(2025, 1, 3)
    assert _parse(ORDER_DATE, "2025年1月3日", context=context) == date(2025, 1, 3)


def test_date_in_an_undeclared_format_should_be_rejected_naming_the_formats() -> None:
    problem = _problem(ORDER_DATE, "03.01.2025")

    assert problem.value == "03.01.2025"
    assert "['%Y-%m-%d']" in problem.reason
    assert "`date_formats`" in problem.reason


def test_impossible_date_should_be_rejected_as_no_such_day() -> None:
    problem = _problem(ORDER_DATE, "2025-02-30")

    assert problem.reason.startswith("is not a day of the calendar")
    assert "date_formats" not in problem.reason


def test_xlsx_date_cell_should_become_its_date_whatever_the_formats() -> None:
    context = _context(date_formats=["%Y/%m/%d"])

    assert _parse(ORDER_DATE, datetime(2025, 1, 3), context=context) == date(2025, 1, 3)
    assert _parse(ORDER_DATE, date(2025, 1, 3), context=context) == date(2025, 1, 3)


def test_timestamp_in_shanghai_should_be_stored_as_naive_utc() -> None:
    assert _parse(CREATED_AT, "2025-01-03 09:00") == datetime(2025, 1, 3, 1, 0)


def test_timestamp_after_local_midnight_should_be_the_utc_day_before() -> None:
    assert _parse(CREATED_AT, "2025-01-01 00:30:00") == datetime(2024, 12, 31, 16, 30)


def test_xlsx_datetime_cell_should_be_read_in_the_source_zone() -> None:
    assert _parse(CREATED_AT, datetime(2025, 1, 3, 9, 0)) == datetime(2025, 1, 3, 1, 0)


def test_timestamp_in_another_zone_should_be_converted_from_that_zone() -> None:
    dataset_mapping = DatasetMapping(files=["export.csv"], fields={})
    context = ParseContext(dataset_mapping, ZoneInfo("Europe/Berlin"), "CNY")

    assert _parse(CREATED_AT, "2025-07-01 12:00", context=context) == datetime(
        2025, 7, 1, 10, 0
    )


def test_timestamp_in_an_undeclared_format_should_name_the_setting() -> None:
    problem = _problem(CREATED_AT, "2025-01-03T09:00")

    assert "`timestamp_formats`" in problem.reason
    assert "%Y-%m-%d %H:%M" in problem.reason


# Enumerations, currencies, e-mail, yes/no


def test_enum_spelling_should_be_translated_through_values() -> None:
    source = FieldSource(column="cell", values={"销售": "sale", "退货": "return"})

    assert _parse(LINE_TYPE, "退货", source) == "return"


def test_enum_contract_value_should_pass_untranslated() -> None:
    source = FieldSource(column="cell", values={"销售": "sale"})

    assert _parse(LINE_TYPE, "rebate_credit", source) == "rebate_credit"


def test_unknown_enum_should_be_rejected_naming_the_allowed_values() -> None:
    source = FieldSource(column="cell", values={"销售": "sale"})

    problem = _problem(LINE_TYPE, "赠品", source)

    assert problem.value == "赠品"
    assert "['sale', 'return', 'rebate_credit']" in problem.reason
    assert "`values:`" in problem.reason


def test_settlement_currency_should_be_accepted_in_any_case() -> None:
    assert _parse(CURRENCY, "cny") == "CNY"


def test_currency_other_than_settlement_currency_should_be_rejected() -> None:
    problem = _problem(CURRENCY, "USD")

    assert problem.value == "USD"
    assert "settlement currency 'CNY'" in problem.reason
    assert "CHANNELOPS_CURRENCY" in problem.reason


def test_currency_that_is_not_a_code_should_be_rejected() -> None:
    assert "ISO 4217" in _problem(CURRENCY, "人民币").reason


@pytest.mark.parametrize("raw", [None, "", "NULL", "null"])
def test_missing_required_value_should_be_rejected(raw: str | None) -> None:
    problem = _problem(NET_AMOUNT, raw)

    assert problem.value is None
    assert problem.reason == "required value is missing"


def test_missing_optional_value_should_be_none() -> None:
    assert _parse(PRODUCT_ID, "") is None
    assert _parse(UNIT_PRICE, None) is None


def test_declared_null_value_should_count_as_missing() -> None:
    context = _context(null_values=["-", "无"])

    assert _parse(PRODUCT_ID, "无", context=context) is None
    assert _problem(NET_AMOUNT, "-", context=context).value is None


def test_missing_value_with_a_default_should_take_the_default() -> None:
    source = FieldSource(column="cell", default="sale")

    assert _parse(LINE_TYPE, "", source) == "sale"


def test_fixed_value_should_be_used_whatever_the_row_holds() -> None:
    source = FieldSource(value="CNY")

    assert source_value(source, {"币种": "USD"}) == "CNY"


def test_template_should_join_the_row_cells_as_text() -> None:
    source = FieldSource(template="{单号}-{行号}")

    assert source_value(source, {"单号": "SO-1", "行号": 2.0}) == "SO-1-2"


@pytest.mark.parametrize("text", ["li.lei@example.com", "wang+ops@sub.example.cn"])
def test_valid_email_should_be_kept(text: str) -> None:
    assert _parse(EMAIL, text) == text


@pytest.mark.parametrize(
    "text",
    ["li.lei", "li.lei@example", "li lei@example.com", "a@b.com;c@d.com", "a@@b.com"],
)
def test_invalid_email_should_be_rejected(text: str) -> None:
    problem = _problem(EMAIL, text)

    assert problem.value == text
    assert problem.reason == "is not an e-mail address"


@pytest.mark.parametrize(
    ("text", "expected"), [("是", True), ("YES", True), ("否", False), ("0", False)]
)
def test_boolean_words_should_become_booleans(text: str, expected: bool) -> None:
    assert _parse(IS_KEY_ACCOUNT, text) is expected


def test_boolean_that_is_not_yes_or_no_should_be_rejected() -> None:
    assert "is not yes/no" in _problem(IS_KEY_ACCOUNT, "maybe").reason


def test_cell_text_should_show_whole_xlsx_numbers_without_a_point() -> None:
    assert cell_text(42.0) == "42"
    assert cell_text(" SO-1 ") == "SO-1"
    assert cell_text(datetime(2025, 1, 3, 9, 0)) == "2025-01-03 09:00:00"
