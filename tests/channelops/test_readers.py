"""Tests for channelops.readers: CSV and XLSX export files into numbered rows."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channelops.errors import InputError
from channelops.mapping import DatasetMapping
from channelops.readers import (
    SourceRow,
    _line_of,
    decoded_text,
    detect_encoding,
    detect_file_encoding,
    open_rows,
    text_lines,
)

HEADER = "经销商编码,经销商名称,区域\n"
ROWS = "P001,华东贸易有限公司,华东\nP002,北方商贸有限公司,华北\n"
CHINESE_CSV = HEADER + ROWS


def _mapping(**options: Any) -> DatasetMapping:
    return DatasetMapping.model_validate({"files": ["*"], "fields": {}, **options})


def _write_bytes(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def _read(path: Path, **options: Any) -> tuple[str, list[str], list[SourceRow]]:
    opened = open_rows(path, _mapping(**options))
    return opened.encoding, opened.header, list(opened.rows)


def _write_workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


@pytest.mark.parametrize(
    ("encode", "expected"),
    [
        (lambda text: text.encode("utf-8"), "utf-8"),
        (lambda text: text.encode("utf-8-sig"), "utf-8-sig"),
        (lambda text: text.encode("gb18030"), "gb18030"),
    ],
    ids=["utf-8", "utf-8-bom", "gb18030"],
)
def test_csv_encoding_should_be_detected_and_decoded(
    tmp_path: Path, encode: Any, expected: str
) -> None:
    path = _write_bytes(tmp_path, "经销商.csv", encode(CHINESE_CSV))

    encoding, header, rows = _read(path)

    assert encoding == expected
    assert header == ["经销商编码", "经销商名称", "区域"]
    assert rows[0] == SourceRow(
        2, {"经销商编码": "P001", "经销商名称": "华东贸易有限公司", "区域": "华东"}
    )
    assert rows[1].values["经销商名称"] == "北方商贸有限公司"


def test_gb18030_bytes_should_not_pass_as_utf8() -> None:
    assert detect_encoding(CHINESE_CSV.encode("gb18030")) == "gb18030"
    assert detect_encoding(b"partner_id\nP001\n") == "utf-8"


def test_bad_byte_after_the_header_should_raise_when_the_file_is_opened(
    tmp_path: Path,
) -> None:
    data = CHINESE_CSV.encode("gb18030") + b"P003,\xff\xff,X\n"
    path = _write_bytes(tmp_path, "sales.csv", data)

    lines = CHINESE_CSV.count("\n") + 1
    with pytest.raises(
        InputError,
        match=rf"byte {len(data) - 5} \(line {lines}\) is not valid gbk; save the file",
    ):
        open_rows(path, _mapping(encoding="gbk"))


# Files are decoded in a stream; these pin the stream to the whole-file decode.

CORNER_TEXT = st.text(
    st.sampled_from(["a", ",", "中", "\r", "\n", "\ufeff", '"', "é", "\U0001f600"]),
    max_size=30,
)
ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"]
STREAM_SETTINGS = settings(max_examples=300, deadline=None, database=None)


def _whole_decode(data: bytes, encoding: str) -> tuple[str | None, int | None]:
    """What reading the whole file at once gives: the text or the bad byte."""
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        return None, exc.start
    return text.removeprefix("\ufeff"), None


def _stream_decode(
    path: Path, encoding: str, chunk_bytes: int
) -> tuple[str | None, int | None]:
    try:
        return "".join(decoded_text(path, encoding, chunk_bytes)), None
    except InputError as exc:
        return None, int(str(exc).split("byte ")[1].split()[0])


@STREAM_SETTINGS
@given(
    text=CORNER_TEXT,
    written_as=st.sampled_from(ENCODINGS),
    read_as=st.sampled_from(ENCODINGS),
    bom=st.booleans(),
    corrupt=st.none()
    | st.tuples(st.integers(0, 200), st.sampled_from(b"\xff\x80\xd8")),
    chunk_bytes=st.sampled_from([1, 2, 3, 5, 64]),
)
def test_decoding_in_a_stream_should_equal_decoding_the_whole_file(
    tmp_path_factory: pytest.TempPathFactory,
    text: str,
    written_as: str,
    read_as: str,
    bom: bool,
    corrupt: tuple[int, int] | None,
    chunk_bytes: int,
) -> None:
    try:
        data = bytearray(text.encode(written_as))
    except UnicodeEncodeError:
        data = bytearray(text.encode("utf-8"))
    if corrupt is not None and data:
        data[corrupt[0] % len(data)] = corrupt[1]
    data = (b"\xef\xbb\xbf" if bom else b"") + data
    path = tmp_path_factory.mktemp("stream") / "export.csv"
    path.write_bytes(bytes(data))

    assert detect_file_encoding(path, chunk_bytes) == detect_encoding(bytes(data))
    assert _stream_decode(path, read_as, chunk_bytes) == _whole_decode(
        bytes(data), read_as
    )


@STREAM_SETTINGS
@given(text=CORNER_TEXT, cuts=st.lists(st.integers(0, 30), max_size=6))
def test_lines_of_a_stream_should_split_like_the_whole_text(
    text: str, cuts: list[int]
) -> None:
    bounds = sorted({0, len(text), *(c for c in cuts if c < len(text))})
    pieces = [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]

    assert list(text_lines(pieces)) == list(io.StringIO(text, newline=""))


def test_declared_encoding_should_be_used_without_detection(tmp_path: Path) -> None:
    path = _write_bytes(tmp_path, "sales.csv", CHINESE_CSV.encode("gbk"))

    encoding, header, _ = _read(path, encoding="gbk")

    assert encoding == "gbk"
    assert header[0] == "经销商编码"


def test_declared_encoding_that_does_not_fit_should_raise_naming_the_file(
    tmp_path: Path,
) -> None:
    path = _write_bytes(tmp_path, "sales.csv", CHINESE_CSV.encode("gb18030"))

    with pytest.raises(
        InputError, match=r"sales\.csv: byte 0 \(line 1\) is not valid utf-8"
    ):
        open_rows(path, _mapping(encoding="utf-8"))


def test_a_utf8_file_declared_as_gb18030_is_told_to_say_utf8(tmp_path: Path) -> None:
    # Bytes GB18030 cannot decode, as UTF-8 text of some Chinese can be.
    text = "经销商编码,名称\nP001,杭州恒达商贸有限公司𠀀\n"
    path = _write_bytes(tmp_path, "sales.csv", text.encode("utf-8"))

    with pytest.raises(
        InputError, match="the file reads as UTF-8: set `encoding: utf-8`"
    ):
        open_rows(path, _mapping(encoding="gb18030"))


def test_bom_should_be_dropped_from_the_first_header_even_when_declared(
    tmp_path: Path,
) -> None:
    path = _write_bytes(tmp_path, "contacts.csv", CHINESE_CSV.encode("utf-8-sig"))

    _, header, _ = _read(path, encoding="utf-8")

    assert header[0] == "经销商编码"


def test_header_cells_should_be_stripped(tmp_path: Path) -> None:
    path = _write_bytes(tmp_path, "p.csv", b" partner_id , name\nP001,A\n")

    _, header, rows = _read(path)

    assert header == ["partner_id", "name"]
    assert rows[0].values == {"partner_id": "P001", "name": "A"}


def test_header_only_file_should_give_zero_rows(tmp_path: Path) -> None:
    path = _write_bytes(tmp_path, "p.csv", HEADER.encode("utf-8"))

    _, header, rows = _read(path)

    assert len(header) == 3
    assert rows == []


def test_empty_file_should_raise_naming_the_file(tmp_path: Path) -> None:
    path = _write_bytes(tmp_path, "回款记录.csv", b"")

    with pytest.raises(InputError, match=r"回款记录\.csv: the file is empty"):
        open_rows(path, _mapping())


def test_row_with_wrong_cell_count_should_carry_a_problem(tmp_path: Path) -> None:
    text = HEADER + "P001,华东贸易有限公司,华东\nP002,北方商贸,有限公司,华北\nP003,X\n"
    path = _write_bytes(tmp_path, "p.csv", text.encode("utf-8"))

    _, _, rows = _read(path)

    assert [r.row_number for r in rows] == [2, 3, 4]
    assert rows[0].problem is None
    assert rows[1].problem is not None
    assert "row has 4 cells but the header has 3" in rows[1].problem
    assert rows[2].problem is not None
    assert "row has 2 cells" in rows[2].problem


def test_blank_lines_should_be_skipped_but_keep_the_numbering(tmp_path: Path) -> None:
    text = "partner_id\nP001\n\nP002\n"
    path = _write_bytes(tmp_path, "p.csv", text.encode("utf-8"))

    _, _, rows = _read(path)

    assert [(r.row_number, r.values["partner_id"]) for r in rows] == [
        (2, "P001"),
        (4, "P002"),
    ]


def test_csv_header_row_should_skip_the_lines_above_it(tmp_path: Path) -> None:
    text = "回款记录 2025年\n" + CHINESE_CSV
    path = _write_bytes(tmp_path, "p.csv", text.encode("utf-8"))

    _, header, rows = _read(path, header_row=2)

    assert header[0] == "经销商编码"
    assert rows[0].row_number == 3


def test_semicolon_delimiter_should_split_cells(tmp_path: Path) -> None:
    path = _write_bytes(tmp_path, "p.csv", b"partner_id;amount\nP001;1,5\n")

    _, _, rows = _read(path, delimiter=";")

    assert rows[0].values == {"partner_id": "P001", "amount": "1,5"}


def test_unsupported_file_type_should_raise_naming_the_type(tmp_path: Path) -> None:
    path = _write_bytes(tmp_path, "p.xls", b"\xd0\xcf\x11\xe0")

    with pytest.raises(InputError, match=r"p\.xls: cannot read files of type '\.xls'"):
        open_rows(path, _mapping())


def test_xlsx_with_a_title_row_should_read_from_header_row_2(tmp_path: Path) -> None:
    path = _write_workbook(
        tmp_path / "市场活动.xlsx",
        {
            "活动明细": [
                ["2025年市场活动明细"],
                ["活动编号", "经销商编码", "投入费用", "开始日期"],
                ["A001", "P001", 1234.5, datetime(2025, 1, 3)],
                [None, None, None, None],
                ["A002", "P002", None, datetime(2025, 2, 1)],
            ]
        },
    )

    encoding, header, rows = _read(path, sheet="活动明细", header_row=2)

    assert encoding == "xlsx"
    assert header == ["活动编号", "经销商编码", "投入费用", "开始日期"]
    assert [r.row_number for r in rows] == [3, 5]
    assert rows[0].values == {
        "活动编号": "A001",
        "经销商编码": "P001",
        "投入费用": 1234.5,
        "开始日期": datetime(2025, 1, 3),
    }
    assert rows[1].values["投入费用"] is None


def test_xlsx_without_a_sheet_should_read_the_first_sheet(tmp_path: Path) -> None:
    path = _write_workbook(
        tmp_path / "p.xlsx",
        {"first": [["partner_id"], ["P001"]], "second": [["other"], ["x"]]},
    )

    _, header, rows = _read(path)

    assert header == ["partner_id"]
    assert rows == [SourceRow(2, {"partner_id": "P001"})]


def test_xlsx_missing_sheet_should_raise_naming_the_sheets(tmp_path: Path) -> None:
    path = _write_workbook(
        tmp_path / "经销商档案.xlsx", {"Sheet1": [["a"]], "汇总": [["b"]]}
    )

    with pytest.raises(InputError) as caught:
        open_rows(path, _mapping(sheet="经销商"))

    message = str(caught.value)
    assert "经销商档案.xlsx: no sheet named '经销商'" in message
    assert "['Sheet1', '汇总']" in message
    assert "`sheet`" in message


def test_xlsx_empty_sheet_should_raise_naming_the_sheet(tmp_path: Path) -> None:
    path = _write_workbook(tmp_path / "p.xlsx", {"空表": []})

    with pytest.raises(InputError, match="sheet '空表' is empty"):
        open_rows(path, _mapping())


def test_file_that_is_not_a_workbook_should_raise_naming_the_file(
    tmp_path: Path,
) -> None:
    path = _write_bytes(tmp_path, "p.xlsx", b"partner_id\nP001\n")

    with pytest.raises(InputError, match=r"p\.xlsx: not a readable XLSX workbook"):
        open_rows(path, _mapping())


@pytest.mark.parametrize("chunk_bytes", [1, 2, 5, 1 << 20])
def test_the_line_of_a_byte_should_not_depend_on_how_the_file_is_read(
    tmp_path: Path, chunk_bytes: int
) -> None:
    path = _write_bytes(tmp_path, "sales.csv", b"ab\ncd\n\nef")

    lines = [_line_of(path, offset, chunk_bytes) for offset in range(10)]

    assert lines == [1, 1, 1, 2, 2, 2, 3, 4, 4, 4]
