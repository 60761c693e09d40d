"""The XLSX attachment holds the statement's lines exactly, byte-stable."""

from __future__ import annotations

import io
import random
from decimal import Decimal

import openpyxl
import pytest

from notifications.documents import DocumentError
from notifications.workbook import (
    XLSX_MIME_TYPE,
    exact_float,
    statement_filename,
    statement_workbook,
)
from tests.notifications.samples import CLAWBACK, LINES, TOTAL, statement


def cells(content: bytes) -> list[list[object]]:
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def table(rows: list[list[object]], header: str) -> list[list[object]]:
    start = next(i for i, row in enumerate(rows) if row[0] == header)
    return rows[start + 1 :]


def test_workbook_file_name_should_carry_partner_period_and_version() -> None:
    assert statement_filename(statement(), "zh-CN") == "返利结算单_P0001_2026Q3_v1.xlsx"
    assert (
        statement_filename(statement(version=2), "en")
        == "rebate-statement_P0001_2026Q3_v2.xlsx"
    )


def test_workbook_file_name_should_replace_characters_mail_clients_refuse() -> None:
    odd = statement(partner_id="P/01 A")

    assert statement_filename(odd, "en") == "rebate-statement_P_01_A_2026Q3_v1.xlsx"


def test_workbook_lines_should_read_back_equal_to_the_statement() -> None:
    source = statement()
    attachment = statement_workbook(source, "zh-CN")

    rows = table(cells(attachment.content), "行号")

    assert attachment.mime_type == XLSX_MIME_TYPE
    for row, line in zip(rows, source.lines, strict=False):
        assert row[0] == line.line_no
        assert row[1:4] == [line.program_id, line.program_name, line.rule]
        assert Decimal(repr(row[4])) == line.basis_amount
        assert row[5] == line.tier
        assert Decimal(repr(row[7])) == line.amount
        assert row[8] == line.source_line_count
    total_row = rows[len(source.lines)]
    assert total_row[0] == "合计"
    assert Decimal(repr(total_row[7])) == TOTAL


def test_workbook_summary_should_hold_the_printed_totals_as_text() -> None:
    rows = cells(statement_workbook(statement(), "zh-CN").content)

    summary = {row[0]: row[1] for row in rows[:8]}

    assert summary["返利合计"] == "¥1,279,317.80"
    assert summary["期间净销售额"] == "¥52,318,904.55"
    assert summary["内容校验码"] == "sha256:" + "ab" * 32


def test_english_workbook_should_use_english_labels() -> None:
    rows = cells(statement_workbook(statement(), "en").content)

    assert rows[0][0] == "Partner"
    assert table(rows, "Line")[3][0] == "Total"


def test_workbook_built_twice_should_be_byte_identical() -> None:
    first = statement_workbook(statement(), "zh-CN").content
    second = statement_workbook(statement(), "zh-CN").content

    assert first == second


def sample_fen_amounts(count: int) -> list[int]:
    """Edge values plus amounts spread evenly over every order of magnitude."""
    chooser = random.Random(20260930)
    edges = [0, 1, 5, 29, 115, 10**15 - 1]
    spread = [chooser.randrange(10 ** chooser.randint(1, 15)) for _ in range(count)]
    return [sign * fen for fen in edges + spread for sign in (1, -1)]


def test_exact_float_should_accept_two_place_amounts_below_1e13() -> None:
    for fen in sample_fen_amounts(20_000):
        amount = Decimal(fen).scaleb(-2)

        assert Decimal(repr(exact_float(amount, "amount"))) == amount


def test_exact_float_should_refuse_an_amount_a_float_cannot_hold() -> None:
    with pytest.raises(DocumentError, match="15 significant"):
        exact_float(Decimal("1234567890123456.78"), "total")


def test_workbook_should_list_a_clawback_with_its_explanation() -> None:
    lines = (*LINES, CLAWBACK)
    attachment = statement_workbook(
        statement(lines=lines, total=TOTAL + CLAWBACK.amount), "zh-CN"
    )
    workbook = openpyxl.load_workbook(io.BytesIO(attachment.content), read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()

    clawback = next(row for row in rows if row[1] == CLAWBACK.program_id)
    assert Decimal(repr(clawback[7])) == Decimal("-2000.00")
    assert clawback[9] == CLAWBACK.explanation
