"""A statement line's explanation names what its basis is."""

from __future__ import annotations

from channelops.outbox import line_explanation
from channelops.publish import change_reason

LINE = {
    "accumulation": "year",
    "measured_basis": "3.000",
    "entitlement_amount": "600.00",
    "previously_entitled_amount": "0.00",
    "carried_in_amount": "0.00",
    "carried_out_amount": "0.00",
    "source_line_count": 4,
}


def test_a_new_customer_line_says_its_basis_counts_new_customers() -> None:
    line = {**LINE, "basis": "new_customers"}

    assert line_explanation(line, "zh-CN").startswith("基数：本累计期新客户数; ")
    assert line_explanation(line, "en").startswith(
        "basis: customers new in the period; accumulation: year"
    )


def test_a_net_sales_line_starts_with_its_accumulation() -> None:
    line = {**LINE, "basis": "net_sales"}

    assert line_explanation(line, "en").startswith("accumulation: year;")


def test_a_co_marketing_line_says_its_basis_is_completed_activities() -> None:
    line = {**LINE, "basis": "co_marketing_activities"}

    assert line_explanation(line, "zh-CN").startswith(
        "基数：本累计期已完成的市场共建活动数; "
    )


def test_figures_are_printed_as_partners_read_them() -> None:
    sales = {
        **LINE,
        "basis": "net_sales",
        "measured_basis": "2803816.660",
        "entitlement_amount": "84114.50",
        "carried_out_amount": "-1200.00",
    }
    attainment = {**LINE, "basis": "target_attainment", "measured_basis": "0.772"}
    units = {**LINE, "basis": "quantity", "measured_basis": "12500.000"}

    assert "累计基数 2,803,816.66; 累计应得 84,114.50" in line_explanation(
        sales, "zh-CN"
    )
    assert "carried out -1,200.00" in line_explanation(sales, "en")
    assert "accumulated basis 77.2%" in line_explanation(attainment, "en")
    assert "累计基数 12,500;" in line_explanation(units, "zh-CN")


def test_a_corrections_reason_is_told_in_the_partners_language() -> None:
    recorded = (
        "corrects v1: input files changed; rule files changed (programs or adjustments)"
    )

    assert change_reason(recorded, "zh-CN") == (
        "更正第 1 版：输入数据有变化；规则文件有变化（返利政策或调整）"
    )
    assert change_reason(recorded, "en") == recorded
    assert change_reason("an operator's own words", "zh-CN") == (
        "an operator's own words"
    )
