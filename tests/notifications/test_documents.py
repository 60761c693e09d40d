"""Statements and messages refuse inconsistent content when they are built."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from notifications.documents import (
    DocumentError,
    OutgoingMessage,
    Recipient,
    ScorecardSummary,
    message_id_for,
)
from tests.notifications.samples import LINES, TOTAL, contact, statement


def test_statement_whose_total_is_not_the_sum_of_its_lines_should_be_refused() -> None:
    with pytest.raises(DocumentError, match=r"sum of the printed lines \(1279317.80\)"):
        statement(total=TOTAL + Decimal("0.01"))


def test_statement_line_amount_below_the_fen_should_be_refused() -> None:
    line = dataclasses.replace(LINES[0], amount=Decimal("1234567.805"))

    with pytest.raises(DocumentError, match="line 1 amount .* at most two places"):
        statement(lines=(line, *LINES[1:]))


def test_statement_with_repeated_line_numbers_should_be_refused() -> None:
    repeated = dataclasses.replace(LINES[1], line_no=1)

    with pytest.raises(
        DocumentError, match=r"unique and increasing, received \[1, 1, 3\]"
    ):
        statement(lines=(LINES[0], repeated, LINES[2]))


def test_statement_with_a_lower_case_currency_should_be_refused() -> None:
    with pytest.raises(DocumentError, match="ISO 4217"):
        statement(currency="cny")


def test_scorecard_rank_outside_the_field_should_be_refused() -> None:
    with pytest.raises(DocumentError, match="received 5"):
        ScorecardSummary(Decimal("80"), "B", rank=5, partner_count=4, metrics=())


def test_recipient_with_a_display_name_in_the_address_should_be_refused() -> None:
    with pytest.raises(DocumentError, match="plain ASCII address"):
        Recipient("王经理 <finance@hengda.example.cn>", None, "zh-CN")


def test_recipient_with_a_chinese_mailbox_should_be_refused() -> None:
    with pytest.raises(DocumentError, match="SMTPUTF8"):
        Recipient("财务@恒达.中国", None, "zh-CN")


def test_message_id_for_should_be_the_same_for_the_same_key() -> None:
    first = message_id_for("statement:P0001:2026Q3:v1", "channelops.test")

    assert first == message_id_for("statement:P0001:2026Q3:v1", "channelops.test")
    assert first != message_id_for("statement:P0001:2026Q3:v2", "channelops.test")
    assert first.startswith("<") and first.endswith("@channelops.test>")


def test_message_without_angle_brackets_in_its_id_should_be_refused() -> None:
    with pytest.raises(DocumentError, match="message_id_for"):
        OutgoingMessage("k", "abc@example.com", (contact(),), "s", "<p>h</p>", "t", ())


def test_message_with_a_subject_on_two_lines_should_be_refused() -> None:
    with pytest.raises(DocumentError, match="one line"):
        OutgoingMessage("k", "<a@b>", (contact(),), "s\nBcc: x@y.z", "h", "t", ())
