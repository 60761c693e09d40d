"""Read customer export files (CSV and XLSX) into rows of cell values.

CSV text is decoded as UTF-8 (with or without a byte-order mark) or, when it
is not valid UTF-8, as GB18030, the superset of GBK that Chinese spreadsheet
tools write. Files are decoded in a stream, a megabyte at a time, so a big
export is never held in memory whole. Rows are numbered as a spreadsheet
shows them: the header is row ``header_row`` and the first data row the one
after it.
"""

from __future__ import annotations

import codecs
import csv
import io
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import openpyxl

from channelops.errors import InputError
from channelops.mapping import DatasetMapping

UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
CSV_SUFFIXES = (".csv", ".txt", ".tsv", ".psv")
# Bytes read and decoded at a time: big enough that decoding runs at the
# codec's speed, small enough that a file never sits in memory whole.
READ_CHUNK_BYTES = 1 << 20


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


def detect_file_encoding(path: Path, chunk_bytes: int = READ_CHUNK_BYTES) -> str:
    """``detect_encoding`` of a file's bytes, read in a stream."""
    with path.open("rb") as handle:
        head = handle.read(len(UTF8_BOM))
        if head == UTF8_BOM:
            return "utf-8-sig"
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            decoder.decode(head)
            for data in iter(lambda: handle.read(chunk_bytes), b""):
                decoder.decode(data)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8"


def csv_encoding(path: Path, mapping: DatasetMapping) -> str:
    """The encoding a CSV file is read in: the mapping's, or detected."""
    if mapping.encoding == "auto":
        return detect_file_encoding(path)
    return mapping.encoding


def decoded_text(
    path: Path, encoding: str, chunk_bytes: int = READ_CHUNK_BYTES
) -> Iterator[str]:
    """The file's text in pieces, without a leading byte-order mark.

    Joined, the pieces equal ``data.decode(encoding)`` of the whole file with
    one leading U+FEFF dropped; bytes that are not valid raise ``InputError``
    naming the byte offset the whole-file decode reports.
    """
    codec, skipped = encoding, b""
    with path.open("rb") as handle:
        name = codecs.lookup(encoding).name
        if name == "utf-8-sig":
            # That codec drops the mark and counts offsets from after it.
            codec, skipped = "utf-8", handle.read(len(UTF8_BOM))
        elif name == "utf-16" and handle.read(2) not in UTF16_BOMS:
            # Without a mark, bytes.decode reads the machine's byte order, where
            # the stream decoder gives up.
            codec = f"utf-16-{'le' if sys.byteorder == 'little' else 'be'}"
        handle.seek(len(skipped))
        decoder = codecs.getincrementaldecoder(codec)()
        consumed = 0

        def decode(data: bytes, *, final: bool = False) -> str:
            nonlocal consumed
            held = len(decoder.getstate()[0])
            try:
                text: str = decoder.decode(data, final=final)
            except UnicodeDecodeError as exc:
                offset = consumed - held + exc.start
                raise InputError(
                    f"{path.name}: byte {offset} (line {_line_of(path, offset)}) "
                    f"is not valid {encoding}; {_encoding_advice(path, encoding)}"
                ) from exc
            consumed += len(data)
            return text

        def decoded() -> Iterator[str]:
            first = b"" if skipped == UTF8_BOM else skipped
            for data in chain([first], iter(lambda: handle.read(chunk_bytes), b"")):
                yield decode(data)
            yield decode(b"", final=True)

        texts = decoded()
        for text in texts:
            if text:
                yield text.removeprefix("\ufeff")
                break
        for text in texts:
            if text:
                yield text


def _line_of(path: Path, offset: int, chunk_bytes: int = READ_CHUNK_BYTES) -> int:
    """The 1-based line of a byte offset, counting LF line ends."""
    lines, left = 1, offset
    with path.open("rb") as handle:
        while left > 0 and (data := handle.read(min(chunk_bytes, left))):
            lines += data.count(b"\n")
            left -= len(data)
    return lines


def _encoding_advice(path: Path, encoding: str) -> str:
    """What to do about a file that is not valid in the declared encoding."""
    declared_utf8 = codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")
    if not declared_utf8 and detect_file_encoding(path) != "gb18030":
        return (
            "the file reads as UTF-8: set `encoding: utf-8` (or `auto`) in "
            "the source mapping"
        )
    return "save the file as UTF-8 or GB18030, or set `encoding` in the source mapping"


def check_decodable(path: Path, encoding: str) -> None:
    """Raise ``InputError`` if the file is not valid text in ``encoding``."""
    for _ in decoded_text(path, encoding):
        pass


def text_lines(pieces: Iterable[str]) -> Iterator[str]:
    """The lines of the joined pieces, split as ``io.StringIO(text, newline="")``
    splits them: at CR LF, LF or CR, with the line ends kept."""
    carried: list[str] = []
    for piece in pieces:
        carried.append(piece)
        if "\n" not in piece and "\r" not in piece:
            continue
        lines = io.StringIO("".join(carried), newline="").readlines()
        # The last line may go on in the next piece (a CR before its LF).
        carried = [] if lines[-1].endswith("\n") else [lines.pop()]
        yield from lines
    if carried:
        yield from io.StringIO("".join(carried), newline="").readlines()


def open_rows(path: Path, mapping: DatasetMapping) -> OpenedFile:
    """Open one export file and iterate its data rows."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _open_xlsx(path, mapping)
    if suffix in CSV_SUFFIXES:
        return _open_csv(path, mapping)
    raise InputError(
        f"{path.name}: cannot read files of type {suffix!r}; "
        "export the data as .csv or .xlsx"
    )


def _open_csv(path: Path, mapping: DatasetMapping) -> OpenedFile:
    encoding = csv_encoding(path, mapping)
    if not (mapping.encoding == "auto" and encoding == "utf-8"):
        # Detection already read the whole file as UTF-8; anything else is
        # checked first, so a bad byte is reported before any other problem.
        check_decodable(path, encoding)
    lines = text_lines(decoded_text(path, encoding))
    reader = csv.reader(lines, delimiter=mapping.delimiter)
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
