"""Read customer export files (CSV and XLSX) into rows of cell values.

CSV text is decoded as UTF-8 (with or without a byte-order mark) or, when it
is not valid UTF-8, as GB18030, the superset of GBK that Chinese spreadsheet
tools write. Rows are numbered as a spreadsheet shows them: the header is
row ``header_row`` and the first data row the one after it.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl

from channelops.errors import InputError
from channelops.mapping import DatasetMapping

UTF8_BOM = codecs.BOM_UTF8


@dataclass(frozen=True)
class SourceRow:
    row_number: int
    values: dict[str, Any]
    problem: str | None = None


@dataclass(frozen=True)
class OpenedFile:
    header: list[str]
    encoding: str
    rows: Iterator[SourceRow]


def detect_encoding(data: bytes) -> str:
    """Name the encoding of CSV bytes: utf-8-sig, utf-8 or gb18030."""
    if data.startswith(UTF8_BOM):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def open_rows(path: Path, mapping: DatasetMapping) -> OpenedFile:
    """Open one export file and iterate its data rows."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _open_xlsx(path, mapping)
    if suffix in (".csv", ".txt", ".tsv", ".psv"):
        return _open_csv(path, mapping)
    raise InputError(
        f"{path.name}: cannot read files of type {suffix!r}; "
        "export the data as .csv or .xlsx"
    )


def _open_csv(path: Path, mapping: DatasetMapping) -> OpenedFile:
    data = path.read_bytes()
    encoding = detect_encoding(data) if mapping.encoding == "auto" else mapping.encoding
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path.name}: byte {exc.start} is not valid {encoding}; "
            "save the file as UTF-8 or GB18030, or set `encoding` in the "
            "source mapping"
        ) from exc
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=mapping.delimiter)
    for _ in range(mapping.header_row - 1):
        next(reader, None)
    header = next(reader, None)
    if header is None:
        raise InputError(
            f"{path.name}: the file is empty (no header row at row "
            f"{mapping.header_row}); export it again with its column headers"
        )
    header = [h.strip() for h in header]
    return OpenedFile(header, encoding, _csv_rows(reader, header, mapping.header_row))


def _csv_rows(
    reader: Iterator[list[str]], header: list[str], header_row: int
) -> Iterator[SourceRow]:
    for index, cells in enumerate(reader, start=1):
        row_number = header_row + index
        if not cells:
            continue
        problem = None
        if len(cells) != len(header):
            problem = (
                f"row has {len(cells)} cells but the header has {len(header)}; "
                "check for an unquoted delimiter in a value"
            )
        yield SourceRow(row_number, dict(zip(header, cells, strict=False)), problem)


def _open_xlsx(path: Path, mapping: DatasetMapping) -> OpenedFile:
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise InputError(
            f"{path.name}: not a readable XLSX workbook ({exc}); "
            "open and save it again in Excel or WPS"
        ) from exc
    if mapping.sheet is not None and mapping.sheet not in workbook.sheetnames:
        raise InputError(
            f"{path.name}: no sheet named {mapping.sheet!r}; sheets: "
            f"{workbook.sheetnames}; fix `sheet` in the source mapping"
        )
    sheet = workbook[mapping.sheet] if mapping.sheet else workbook.worksheets[0]
    rows = sheet.iter_rows(min_row=mapping.header_row, values_only=True)
    header_cells = next(rows, None)
    if header_cells is None:
        workbook.close()
        raise InputError(f"{path.name}: sheet {sheet.title!r} is empty")
    header = [str(h).strip() if h is not None else "" for h in header_cells]
    return OpenedFile(header, "xlsx", _xlsx_rows(workbook, rows, header, mapping))


def _xlsx_rows(
    workbook: Any,
    rows: Iterator[tuple[Any, ...]],
    header: list[str],
    mapping: DatasetMapping,
) -> Iterator[SourceRow]:
    try:
        for index, cells in enumerate(rows, start=1):
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            yield SourceRow(
                mapping.header_row + index, dict(zip(header, cells, strict=False))
            )
    finally:
        workbook.close()
