"""A statement line's explanation names what its basis is."""

from __future__ import annotations

from channelops.outbox import line_explanation

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
