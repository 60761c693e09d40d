"""The XLSX attachment of a rebate statement, byte-identical for equal input.

Built with xlsxwriter, whose output is stable once the document's created date
is fixed (openpyxl stamps the current time on every save). Amounts are written
as numbers in ``#,##0.00`` so a partner can sum and filter them. A cell holds
an IEEE double: a decimal with at most 15 significant digits, which covers
every two-place amount below 10^13, converts to a float and back unchanged.
Each value is checked on the way in, so a cell can never hold a different
amount than the e-mail. The summary block above the table holds the exact
printed strings (net sales, total) as text.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import xlsxwriter

from notifications.documents import (
    Attachment,
    DocumentError,
    Language,
    Statement,
    StatementLine,
)
from notifications.formatting import format_money, format_percent

XLSX_MIME_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Written into docProps/core.xml; a constant keeps reruns byte-identical. The
# content hash, not a file date, identifies a statement.
CREATED = datetime(2000, 1, 1)

AMOUNT_FORMAT = "#,##0.00"

# Characters Windows, macOS or mail clients refuse or mangle in file names.
_UNSAFE_IN_FILENAME = re.compile(r'[\\/:*?"<>|\s]+')


@dataclass(frozen=True)
class _Labels:
    filename_stem: str
    sheet: str
    summary: tuple[str, ...]
    columns: tuple[str, ...]
    total_row: str


_LABELS: dict[Language, _Labels] = {
    "zh-CN": _Labels(
        filename_stem="返利结算单",
        sheet="返利明细",
        summary=(
            "合作伙伴",
            "合作伙伴编号",
            "结算期间",
            "版本",
            "币种",
            "期间净销售额",
            "返利合计",
            "内容校验码",
        ),
        columns=(
            "行号",
            "返利项目编号",
            "返利项目",
            "规则",
            "计算基数",
            "档位",
            "比例",
            "金额",
            "源数据行数",
        ),
        total_row="合计",
    ),
    "en": _Labels(
        filename_stem="rebate-statement",
        sheet="Rebate lines",
        summary=(
            "Partner",
            "Partner ID",
            "Period",
            "Version",
            "Currency",
            "Net sales",
            "Rebate total",
            "Content hash",
        ),
        columns=(
            "Line",
            "Program ID",
            "Program",
            "Rule",
            "Basis",
            "Tier",
            "Rate",
            "Amount",
            "Source lines",
        ),
        total_row="Total",
    ),
}

_COLUMN_WIDTHS = (6, 14, 28, 24, 16, 10, 10, 16, 12)
_AMOUNT_COLUMN = 7


def statement_filename(statement: Statement, language: Language) -> str:
    """``返利结算单_P0001_2026Q3_v1.xlsx`` or ``rebate-statement_…`` in English."""
    stem = _LABELS[language].filename_stem
    partner = _UNSAFE_IN_FILENAME.sub("_", statement.partner_id)
    period = _UNSAFE_IN_FILENAME.sub("_", statement.period)
    return f"{stem}_{partner}_{period}_v{statement.version}.xlsx"


def statement_workbook(statement: Statement, language: Language) -> Attachment:
    """The statement's lines as an XLSX attachment in the recipient's language."""
    labels = _LABELS[language]
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    workbook.set_properties(
        {"title": statement_filename(statement, language), "created": CREATED}
    )
    sheet = workbook.add_worksheet(labels.sheet)
    formats = _formats(workbook)
    next_row = _write_summary(sheet, statement, labels, formats)
    _write_lines(sheet, statement, labels, formats, first_row=next_row + 1)
    workbook.close()
    return Attachment(
        filename=statement_filename(statement, language),
        content=buffer.getvalue(),
        mime_type=XLSX_MIME_TYPE,
    )


def exact_float(value: Decimal, what: str) -> float:
    """``value`` as a float, refused unless the float reads back as ``value``."""
    number = float(value)
    if Decimal(repr(number)) != value:
        raise DocumentError(
            f"{what} {value!r} cannot be stored exactly in a spreadsheet number "
            f"(reads back as {number!r}); amounts need at most 15 significant "
            "digits"
        )
    return number


def _formats(workbook: Any) -> dict[str, Any]:
    return {
        "label": workbook.add_format({"bold": True}),
        "header": workbook.add_format({"bold": True, "bottom": 1}),
        "amount": workbook.add_format({"num_format": AMOUNT_FORMAT}),
        "total": workbook.add_format(
            {"num_format": AMOUNT_FORMAT, "bold": True, "top": 1}
        ),
        "total_label": workbook.add_format({"bold": True, "top": 1}),
    }


def _write_summary(
    sheet: Any, statement: Statement, labels: _Labels, formats: dict[str, Any]
) -> int:
    """Write the label/value block, all text as printed; return the next row."""
    values = (
        statement.partner_name,
        statement.partner_id,
        statement.period,
        f"v{statement.version}",
        statement.currency,
        format_money(statement.net_sales, statement.currency),
        format_money(statement.total, statement.currency),
        statement.content_hash,
    )
    for row, (label, value) in enumerate(zip(labels.summary, values, strict=True)):
        sheet.write_string(row, 0, label, formats["label"])
        sheet.write_string(row, 1, value)
    return len(values)


def _write_lines(
    sheet: Any,
    statement: Statement,
    labels: _Labels,
    formats: dict[str, Any],
    *,
    first_row: int,
) -> None:
    for column, (title, width) in enumerate(
        zip(labels.columns, _COLUMN_WIDTHS, strict=True)
    ):
        sheet.set_column(column, column, width)
        sheet.write_string(first_row, column, title, formats["header"])
    sheet.freeze_panes(first_row + 1, 0)
    for offset, line in enumerate(statement.lines, start=1):
        _write_line(sheet, first_row + offset, line, formats)
    total_row = first_row + len(statement.lines) + 1
    sheet.write_string(total_row, 0, labels.total_row, formats["total_label"])
    total = exact_float(statement.total, "total")
    sheet.write_number(total_row, _AMOUNT_COLUMN, total, formats["total"])


def _write_line(
    sheet: Any, row: int, line: StatementLine, formats: dict[str, Any]
) -> None:
    where = f"line {line.line_no}"
    sheet.write_number(row, 0, line.line_no)
    sheet.write_string(row, 1, line.program_id)
    sheet.write_string(row, 2, line.program_name)
    sheet.write_string(row, 3, line.rule)
    basis = exact_float(line.basis_amount, f"{where} basis")
    sheet.write_number(row, 4, basis, formats["amount"])
    sheet.write_string(row, 5, line.tier)
    rate = f"{line.rate.normalize():f}/unit" if line.rate_is_per_unit else None
    sheet.write_string(row, 6, rate or format_percent(line.rate))
    amount = exact_float(line.amount, f"{where} amount")
    sheet.write_number(row, _AMOUNT_COLUMN, amount, formats["amount"])
    sheet.write_number(row, 8, line.source_line_count)
