"""Tests for channelops.bulk: typing a CSV file in bulk loads what the row parser
loads, with the same row numbers and the same rejections, byte for byte.

Every test pulls the same files twice, into two warehouses: once with bulk
typing (the default) and once with ``bulk_csv=False``, which types every row
through the row parser as before; then it compares the raw rows (values and
their types), the quarantine and the per-file counts.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bench.generate import generate, scale_of
from bench.run import bench_config
from channelops.bulk import (
    PYTHON_WHITESPACE,
    NotSimple,
    inspect_csv,
    strip_sql,
)
from channelops.demo import generate_demo
from channelops.mapping import DatasetMapping
from channelops.pull import FileLoad, pull
from channelops.settings import DEFAULT_CONFIG_DIR, Settings
from channelops.warehouse import Warehouse
from tests.conftest import TEST_DATA, adventureworks_drop

PARTNERS_CSV = "code,name\nP001,华东贸易有限公司\nP002,北方商贸有限公司\nP003,西南\n"
PARTNERS_MAPPING = {
    "files": ["partners.csv"],
    "fields": {"partner_id": "code", "partner_name": "name"},
}


def _typed(row: tuple[Any, ...]) -> tuple[tuple[str, str], ...]:
    """A row's values with their Python types, so 1.50 and 1.5 differ."""
    return tuple((type(value).__name__, repr(value)) for value in row)


@dataclass
class Side:
    """One warehouse, pulled with or without bulk typing."""

    settings: Settings
    warehouse: Warehouse
    loads: dict[str, FileLoad] = field(default_factory=dict)

    @classmethod
    def open(
        cls, root: Path, *, bulk: bool, drop: Path | None = None, currency: str = "CNY"
    ) -> Side:
        config = root / "config"
        (config / "sources").mkdir(parents=True, exist_ok=True)
        settings = Settings(
            home=root / "home",
            config_dir=config,
            drop_dir=drop or root / "drop",
            currency=currency,
            bulk_csv=bulk,
        )
        settings.inbox_dir.mkdir(parents=True, exist_ok=True)
        return cls(settings, Warehouse(settings))

    def pull(self) -> str | None:
        """Pull the drop folder; the error it raised, if any, as text."""
        try:
            report = pull(self.settings, self.warehouse, batch_id="b1")
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        self.loads = {load.file_name: load for load in report.files}
        return None

    def state(self, dataset: str, file_name: str) -> dict[str, Any]:
        load = self.loads[file_name]
        query = self.warehouse.query
        return {
            "raw": [
                _typed(row)
                for row in query(
                    f"select * from raw.{dataset} where _file_name = ? "
                    "order by _row_number",
                    (file_name,),
                )
            ],
            "quarantine": query(
                "select batch_id, source, dataset, file_name, row_number, field, "
                "value, reason from ops.quarantine where file_name = ?",
                (file_name,),
            ),
            "counts": (load.rows_read, load.rows_loaded, load.rows_quarantined),
            "recorded": query(
                "select rows_read, rows_loaded, rows_quarantined "
                "from ops.load_files where file_name = ?",
                (file_name,),
            ),
        }

    def everything(self) -> dict[str, Any]:
        """Every raw table, the quarantine and the file counts."""
        tables = [
            name
            for (name,) in self.warehouse.query(
                "select table_name from information_schema.tables "
                "where table_schema = 'raw' order by table_name"
            )
        ]
        state: dict[str, Any] = {
            name: [
                _typed(row)
                for row in self.warehouse.query(
                    f"select * from raw.{name} order by _file_name, _row_number"
                )
            ]
            for name in tables
        }
        state["quarantine"] = self.warehouse.query("select * from ops.quarantine")
        state["load_files"] = self.warehouse.query(
            "select batch_id, source, dataset, file_name, file_sha256, rows_read, "
            "rows_loaded, rows_quarantined from ops.load_files order by file_name"
        )
        return state

    def forget(self, dataset: str, file_name: str) -> None:
        """Take the file's load back out, so the next example starts clean."""
        self.warehouse.execute(
            f"delete from raw.{dataset} where _file_name = ?", (file_name,)
        )
        for table in ("quarantine", "load_files", "replaced_rows"):
            self.warehouse.execute(
                f"delete from ops.{table} where file_name = ?", (file_name,)
            )


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Side, Side]]:
    """Two warehouses that know partners P001-P003: bulk typing on, and off."""
    root = tmp_path_factory.mktemp("bulk")
    pair = (Side.open(root / "bulk", bulk=True), Side.open(root / "rows", bulk=False))
    for side in pair:
        (side.settings.inbox_dir / "partners.csv").write_text(PARTNERS_CSV, "utf-8")
    yield pair
    for side in pair:
        side.warehouse.close()


# The exports hypothesis writes: each dataset's columns, with cells that are
# clean, dirty in every way the row parser knows, or duplicated.

IDS = ["SO1", "SO2", "SO3", " SO1", "SO1\u3000", "so1", "订单1", "\xa0SO2", "", "NULL"]
LINE_NUMBERS = ["1", "2", " 1", "", "-"]
PARTNER_IDS = ["P001", "P002", "P003", " P001 ", "P404", "", "null"]
NUMBERS = [
    "12.5", "-3", "0", "007.10", "1,234.50", "1.234,5", "1.234", "12.345", "12.3456",
    " 12 ", "+5", "1e3", "NaN", "Infinity", "", "NULL", "null", "-", "N/A",
    "\u0661\u0662", "\uff11\uff12", "12345678901234567.89", "1234567890123456.7",
    "9999999999999999.99", "99999999999999.9999", ".5", "5.", "-0", "-0.00",
    "1,234", "12,345,678.9", "1_000", "\u3000 5\u3000", "1.234.5", "3", "200.00",
    "1 234.5", "1'234.50", "1\uff0c234", "-1,234.5",
]  # fmt: skip
SCORES = ["1", "1.0", "5", "5.0", "5.1", "0.9", "3.25", "4.5", "", "NULL", " 4 "]
DATES = [
    "2025-01-03", "2025/01/03", "2025-1-3", "03/04/2025", "13/04/2025",
    "2025-02-30", "2024-02-29", "2025-02-29", "", " 2025-01-03 ",
    "\uff12\uff10\uff12\uff15-01-03", "20250103", "NULL", "2025-01-03 10:00:00",
]  # fmt: skip
TIMESTAMPS = [
    "2025-03-09 02:30:00", "2025-11-02 01:30:00", "2025-01-03 10:00:00",
    "2025-01-03 10:00", "2025-01-03T10:00:00", "2025-13-01 00:00:00",
    "2025/04/06 02:30", "2025-10-05 02:15:00", "2025-04-06 01:45:00", "",
    "NULL", " 2025-01-03 10:00:00 ",
]  # fmt: skip
LINE_TYPES = ["销售", "退货", "sale", "return", "rebate_credit", "赠品", "Sale", ""]
KINDS = ["投诉", "工单", "complaint", "inquiry", "survey", "", "咨询 "]
LANGUAGES = ["中文", "英文", "en", "zh-CN", "fr", "", "EN"]
CURRENCIES = ["CNY", "cny", " CNY ", "USD", "RMB", "", "NULL"]
EMAILS = ["a@b.cn", "li.wei@partner.example.com", "bad", "a@b", "x y@z.cn", ""]
PERIODS = ["2025Q3", "2025-07", "2025", "2025Q5", "25Q1", "2025-13", ""]
TEXTS = [
    "华东贸易", "Widget A", " spaced ", "", "NULL", "a,b", "tab\there", "é",
    'x"y', '"q"', "semi;colon",
]  # fmt: skip

# Per dataset: the columns of the export, the values each is drawn from, and
# the mapping of contract fields onto them (some parts drawn per example).
COLUMNS: dict[str, dict[str, list[str]]] = {
    "order_lines": {
        "单号": IDS, "行号": LINE_NUMBERS, "客户": PARTNER_IDS, "日期": DATES,
        "数量": NUMBERS, "单价": NUMBERS, "金额": NUMBERS, "类型": LINE_TYPES,
        "币种": CURRENCIES, "产品": TEXTS, "备注": TEXTS,
    },
    "payments": {
        "回款单号": IDS, "客户": PARTNER_IDS, "到账日期": DATES,
        "回款金额": NUMBERS, "币种": CURRENCIES,
    },
    "feedback": {
        "工单": IDS, "客户": PARTNER_IDS, "类型": KINDS, "创建时间": TIMESTAMPS,
        "响应时间": TIMESTAMPS, "满意度": SCORES, "主题": TEXTS,
    },
    "partner_contacts": {
        "客户": PARTNER_IDS, "邮箱": EMAILS, "语言": LANGUAGES, "联系人": TEXTS,
    },
    "targets": {
        "客户": PARTNER_IDS, "期间": PERIODS, "目标": NUMBERS, "币种": CURRENCIES,
    },
}  # fmt: skip


@st.composite
def _fields(draw: st.DrawFn, dataset: str) -> dict[str, Any]:
    rounding = draw(st.sampled_from(["reject", "half_up", "half_even"]))
    default = draw(st.sampled_from([None, "", "0", "1.5", "P002", "zh-CN"]))
    if dataset == "order_lines":
        return {
            "order_line_id": {
                "template": draw(
                    st.sampled_from(["{单号}-{行号}", "{单号}", " {行号}#"])
                )
            },
            "order_id": "单号",
            "partner_id": "客户",
            "order_date": "日期",
            "quantity": "数量",
            "unit_price": {"column": "单价", "default": default},
            "net_amount": {"column": "金额", "rounding": rounding},
            "currency": draw(st.sampled_from([{"value": "CNY"}, "币种"])),
            "line_type": {
                "column": "类型",
                "values": {"销售": "sale", "退货": "return"},
            },
            "product_id": {"column": "产品", "default": default},
        }
    if dataset == "payments":
        return {
            "payment_id": "回款单号",
            "partner_id": {"column": "客户", "default": default},
            "paid_date": "到账日期",
            "amount": {"column": "回款金额", "rounding": rounding},
            "currency": draw(st.sampled_from([{"value": " CNY"}, "币种"])),
        }
    if dataset == "feedback":
        return {
            "feedback_id": "工单",
            "partner_id": "客户",
            "kind": {
                "column": "类型",
                "values": {"投诉": "complaint", "工单": "ticket"},
            },
            "created_at": "创建时间",
            "first_response_at": {"column": "响应时间", "default": default},
            "satisfaction": {"column": "满意度", "rounding": rounding},
            "subject": "主题",
        }
    if dataset == "partner_contacts":
        return {
            "partner_id": "客户",
            "email": "邮箱",
            "language": {
                "column": "语言",
                "values": {"中文": "zh-CN", "英文": "en"},
                "default": draw(st.sampled_from([None, "zh-CN", "xx"])),
            },
            "contact_name": "联系人",
        }
    return {
        "partner_id": "客户",
        "period": "期间",
        "target_amount": {"column": "目标", "rounding": rounding},
        "currency": "币种",
    }


# Structural quirks: each makes a file not simple, so it is read row by row.
QUIRKS = {
    "quote next to a space": lambda row, d: [f' "{row[0]}"', *row[1:]],
    "quote inside a value": lambda row, d: [f'a"{row[0]}"b', *row[1:]],
    "quoted line break": lambda row, d: [f'"{row[0]}\nnext"', *row[1:]],
    "extra cell": lambda row, d: [*row, "extra"],
    "missing cell": lambda row, d: row[:-1],
    "carriage return in a value": lambda row, d: [f"{row[0]}\rx", *row[1:]],
    "NUL character": lambda row, d: [f"{row[0]}\x00", *row[1:]],
}


@dataclass(frozen=True)
class Export:
    dataset: str
    mapping: dict[str, Any]
    timezone: str
    data: bytes
    # True when nothing in the file should keep it from bulk typing.
    simple: bool
    rows: int


def _cell(text: str, delimiter: str, quote: bool) -> str:
    """A cell as a CSV writer would write it (quoted only when it must be, or asked)."""
    needs = delimiter in text or '"' in text or "\n" in text or "\r" in text
    if needs or (quote and text == text.strip()):
        return '"' + text.replace('"', '""') + '"'
    return text


@st.composite
def exports(draw: st.DrawFn) -> Export:
    """An export file for one dataset, with its mapping, clean or dirty."""
    dataset = draw(st.sampled_from(sorted(COLUMNS)))
    pools = COLUMNS[dataset]
    header = draw(st.permutations(list(pools)))
    delimiter = draw(st.sampled_from([",", ",", ";", "\t"]))
    header_row = draw(st.sampled_from([1, 2]))
    mapping = {
        "files": [f"{dataset}.csv"],
        "encoding": "auto",
        "delimiter": delimiter,
        "header_row": header_row,
        "null_values": draw(
            st.sampled_from(
                [["", "NULL", "null"], ["", "NULL", "null", "-", "N/A"], ["NULL"], []]
            )
        ),
        "date_formats": draw(
            st.sampled_from(
                [["%Y-%m-%d"], ["%Y/%m/%d", "%Y-%m-%d"], ["%d/%m/%Y", "%m/%d/%Y"]]
            )
        ),
        "timestamp_formats": draw(
            st.sampled_from(
                [
                    ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"],
                    ["%Y-%m-%d %H:%M:%S"],
                    ["%Y/%m/%d %H:%M"],
                ]
            )
        ),
        "thousands_separator": draw(st.sampled_from([None, ",", ".", " ", "\uff0c"])),
        "fields": draw(_fields(dataset)),
    }
    if draw(st.booleans()):
        # A second column of the same name: as in dict(zip(...)), it wins.
        header.append(draw(st.sampled_from(header)))
    count = draw(st.integers(1, 25))
    rows = [
        [draw(st.sampled_from(pools[column])) for column in header]
        for _ in range(count)
    ]
    padded = [
        draw(st.sampled_from(["{}", " {}", "{}\u3000"])).format(h) for h in header
    ]
    quirk = None
    if rows and draw(st.integers(0, 3)) == 0:
        quirk = draw(st.sampled_from(sorted(QUIRKS)))
    lines = [
        [_cell(text, delimiter, draw(st.booleans())) for text in row] for row in rows
    ]
    if quirk is not None:
        at = draw(st.integers(0, len(lines) - 1))
        lines[at] = QUIRKS[quirk](lines[at], delimiter)
        event(f"quirk: {quirk}")
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    title = draw(st.sampled_from(["销售明细 2025", '"明细, 2025年"', '"明细{}第二行"']))
    title = title.format(newline)
    records = ([title] if header_row == 2 else []) + [delimiter.join(padded)]
    records += [delimiter.join(cells) for cells in lines]
    text = newline.join(records) + (newline if draw(st.booleans()) else "")
    if rows and draw(st.integers(0, 7)) == 0:
        # A blank line, or several at the end: counted, never read.
        text += newline * draw(st.integers(1, 2))
        quirk = quirk or "blank line"
    written_as = draw(
        st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
    )
    try:
        data = text.encode(written_as)
    except UnicodeEncodeError:
        written_as, data = "utf-8", text.encode("utf-8")
    if written_as in ("gbk", "utf-16") or draw(st.booleans()):
        mapping["encoding"] = written_as
    return Export(
        dataset,
        mapping,
        draw(
            st.sampled_from(
                ["Asia/Shanghai", "America/New_York", "Australia/Lord_Howe"]
            )
        ),
        data,
        simple=quirk is None,
        rows=count,
    )


def _write(side: Side, export: Export) -> None:
    mapping = {
        "name": "shop",
        "timezone": export.timezone,
        "datasets": {"partners": PARTNERS_MAPPING, export.dataset: export.mapping},
    }
    text = yaml.safe_dump(mapping, allow_unicode=True)
    (side.settings.config_dir / "sources" / "shop.yml").write_text(text, "utf-8")
    (side.settings.inbox_dir / f"{export.dataset}.csv").write_bytes(export.data)


PROPERTY_SETTINGS = settings(
    # More with e.g. BULK_EXAMPLES=2000 when changing channelops.bulk.
    max_examples=int(os.environ.get("BULK_EXAMPLES", "60")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@PROPERTY_SETTINGS
@given(export=exports())
def test_any_export_should_load_and_quarantine_the_same_in_bulk_as_row_by_row(
    sides: tuple[Side, Side], export: Export
) -> None:
    bulk, rows = sides
    file_name = f"{export.dataset}.csv"
    try:
        for side in sides:
            _write(side, export)
        errors = (bulk.pull(), rows.pull())

        assert errors[0] == errors[1]
        if errors[0] is not None:
            event("both raised")
            return
        assert bulk.state(export.dataset, file_name) == rows.state(
            export.dataset, file_name
        )
        typed_in_bulk = bulk.loads[file_name].typed_in_bulk
        event(bulk.loads[file_name].how.split(",")[0])
        if export.simple:
            assert typed_in_bulk
    finally:
        for side in sides:
            side.forget(export.dataset, file_name)


# Whole drop folders, pulled both ways.


def _pulled_both_ways(
    root: Path, drop: Path, config: Path, currency: str = "CNY"
) -> tuple[dict[str, Any], dict[str, Any], dict[str, FileLoad]]:
    states, loads = [], {}
    for bulk in (True, False):
        side = Side.open(root / str(bulk), bulk=bulk, drop=drop, currency=currency)
        shutil.rmtree(side.settings.config_dir)
        shutil.copytree(config, side.settings.config_dir)
        with side.warehouse:
            assert side.pull() is None
            states.append(side.everything())
            loads = loads or side.loads
    return states[0], states[1], loads


def test_demo_drop_should_load_the_same_in_bulk_as_row_by_row(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    generate_demo(drop)

    in_bulk, by_row, loads = _pulled_both_ways(tmp_path, drop, DEFAULT_CONFIG_DIR)

    assert in_bulk == by_row
    assert len(in_bulk["order_lines"]) > 9_000
    assert {name for name, load in loads.items() if not load.typed_in_bulk} == {
        "经销商档案.xlsx",
        "市场活动.xlsx",
    }


def test_benchmark_drop_should_load_the_same_in_bulk_as_row_by_row(
    tmp_path: Path,
) -> None:
    drop = tmp_path / "drop"
    generate(drop, scale_of("10k"))

    in_bulk, by_row, loads = _pulled_both_ways(tmp_path, drop, bench_config(tmp_path))

    assert in_bulk == by_row
    assert len(in_bulk["order_lines"]) == 10_000
    assert all(load.typed_in_bulk for name, load in loads.items() if ".csv" in name)


def test_adventureworks_should_load_the_same_in_bulk_as_row_by_row(
    tmp_path: Path,
) -> None:
    drop = adventureworks_drop(tmp_path / "drop")
    config = TEST_DATA / "adventureworks" / "config"

    in_bulk, by_row, loads = _pulled_both_ways(tmp_path, drop, config, "USD")

    assert in_bulk == by_row
    assert len(in_bulk["order_lines"]) > 50_000
    assert loads["FactResellerSales.csv"].typed_in_bulk


# What each path is chosen for, and what the operator reads.

ORDERS_MAPPING = {
    "files": ["orders.csv"],
    "fields": {
        "order_line_id": {"template": "{order}-{line}"},
        "order_id": "order",
        "partner_id": "code",
        "order_date": "date",
        "quantity": "qty",
        "net_amount": "amount",
        "currency": {"value": "CNY"},
        "line_type": {"column": "type", "values": {"销售": "sale"}},
    },
}
ORDERS_HEADER = "order,line,code,date,qty,amount,type\n"


def _orders(side: Side, text: str, **options: Any) -> None:
    datasets = {"partners": PARTNERS_MAPPING, "order_lines": ORDERS_MAPPING | options}
    mapping = yaml.safe_dump({"name": "shop", "datasets": datasets}, allow_unicode=True)
    (side.settings.config_dir / "sources" / "shop.yml").write_text(mapping, "utf-8")
    (side.settings.inbox_dir / "orders.csv").write_bytes(text.encode("utf-8"))


def _both(sides: tuple[Side, Side], text: str, **options: Any) -> dict[str, Any]:
    """Pull ``text`` both ways; the state, once checked to be the same."""
    states = []
    for side in sides:
        _orders(side, text, **options)
        assert side.pull() is None
        states.append(side.state("order_lines", "orders.csv"))
    assert states[0] == states[1]
    return states[0]


@pytest.fixture
def fresh_sides(sides: tuple[Side, Side]) -> Iterator[tuple[Side, Side]]:
    yield sides
    for side in sides:
        side.forget("order_lines", "orders.csv")


def test_first_of_a_key_should_win_even_when_the_row_parser_typed_it(
    fresh_sides: tuple[Side, Side],
) -> None:
    # Row 2's "+2" is not the plain shape SQL types, but the row parser
    # accepts it; row 5 repeats its key; row 3's key comes after a rejection.
    text = ORDERS_HEADER + (
        "SO1,1,P001,2025-01-03,+2,200.00,销售\n"
        "SO2,1,P001,2025-01-03,1,oops,销售\n"
        "SO2,1,P001,2025-01-03,1,10.00,销售\n"
        "SO1,1,P002,2025-01-04,1,80.00,销售\n"
    )

    state = _both(fresh_sides, text)

    assert [(row[0][1], row[-2][1]) for row in state["raw"]] == [
        ("'SO1-1'", "2"),
        ("'SO2-1'", "4"),
    ]
    assert [q[4:] for q in state["quarantine"]] == [
        (3, "net_amount", "oops", "is not a number"),
        (
            5,
            "order_line_id",
            "SO1-1",
            "duplicate key, first seen in this file at row 2",
        ),
    ]
    assert fresh_sides[0].loads["orders.csv"].typed_in_bulk


def test_rows_should_be_numbered_from_the_header_row_as_a_spreadsheet_shows_them(
    fresh_sides: tuple[Side, Side],
) -> None:
    text = (
        "订单明细\r\n"
        + ORDERS_HEADER.replace("\n", "\r\n")
        + (
            "SO1,1,P001,2025-01-03,2,200.00,销售\r\n"
            "SO2,1,P001,2025-01-03,2,bad,销售\r\n"
            "SO3,1,P001,2025-01-03,2,1.00,销售"
        )
    )

    state = _both(fresh_sides, text, header_row=2)

    assert [row[-2] for row in state["raw"]] == [("int", "3"), ("int", "5")]
    assert [q[4] for q in state["quarantine"]] == [4]
    assert fresh_sides[0].loads["orders.csv"].typed_in_bulk


def _log_line(caplog: pytest.LogCaptureFixture) -> str:
    """The bulk side's line about orders.csv (it is pulled first)."""
    lines = [r.getMessage() for r in caplog.records if "orders.csv (" in r.getMessage()]
    return lines[0]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("SO1,1,P001,2025-01-03,2,200.00,销售\n\nSO2,1,P001,2025-01-03,2,1,销售\n",
         "it has blank lines"),
        ('SO1,1,P001,2025-01-03,2, "200.00",销售\n', "a quote stands next to a space"),
        ("SO1,1,P001,2025-01-03,2,200.00\n",
         "some rows have more or fewer cells than the header"),
        ("SO1,1,P001,2025-01-03,2,200.00,销售\r\nSO2,1,P001,2025-01-03,2,1,销售\n",
         "its lines do not all end the same way"),
        ('SO1,"1\n2",P001,2025-01-03,2,200.00,销售\n',
         "quotes on a line do not enclose whole values on it"),
        ('S""O1,1,P001,2025-01-03,2,200.00,销售\n',
         "quotes on a line do not enclose whole values on it"),
        ("", "it has no data rows"),
    ],
)  # fmt: skip
def test_file_that_is_not_simple_should_be_typed_row_by_row_saying_why(
    fresh_sides: tuple[Side, Side],
    caplog: pytest.LogCaptureFixture,
    body: str,
    reason: str,
) -> None:
    caplog.set_level(logging.INFO, logger="channelops.pull")

    _both(fresh_sides, ORDERS_HEADER + body)

    assert not fresh_sides[0].loads["orders.csv"].typed_in_bulk
    assert f"typed row by row: {reason}" in _log_line(caplog)


def test_simple_file_should_be_typed_in_bulk_saying_how_many_rows_were_checked(
    fresh_sides: tuple[Side, Side], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="channelops.pull")
    body = "SO1,1,P001,2025-01-03,2,200.00,销售\nSO2,1,P001,2025/01/03,2,200.00,销售\n"

    _both(fresh_sides, ORDERS_HEADER + body)

    assert _log_line(caplog) == (
        "Loaded shop order_lines from orders.csv (utf-8, typed in bulk, 1 row(s) "
        "checked by the row parser): read 2, loaded 1, quarantined 1"
    )


def test_python_whitespace_should_be_what_str_strip_removes() -> None:
    assert PYTHON_WHITESPACE == "".join(
        chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()
    )


@settings(max_examples=500, deadline=None, database=None)
@given(st.text(st.sampled_from([*PYTHON_WHITESPACE, "a", "中", "\u200b", "\ufeff"])))
def test_text_should_be_stripped_in_sql_as_str_strip_strips(text: str) -> None:
    with duckdb.connect() as db:
        (stripped,) = db.execute(f"select {strip_sql('?')}", (text,) * 3).fetchone()

    assert stripped == text.strip()


def _inspected(
    path: Path, mapping: DatasetMapping, scratch: Path, chunk_bytes: int
) -> tuple[Any, ...]:
    """What inspect_csv finds, with the data lines DuckDB would read."""
    scratch.mkdir()
    try:
        found = inspect_csv(path, mapping, scratch, chunk_bytes)
    except NotSimple:
        # Which reason is found first may depend on where pieces end.
        return ("not simple",)
    text = found.data_path.read_text(found.encoding if found.skip_lines else "utf-8")
    data = list(io.StringIO(text, newline=""))[found.skip_lines :]
    return (found.encoding, found.header, found.skip_lines, found.records, data)


@st.composite
def csv_texts(draw: st.DrawFn) -> str:
    """Lines of two cells, some quoted, maybe with one stray character."""
    cells = st.sampled_from(["a", "中", "", '"a,b"', '""', "x y", '"q""q"'])
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    lines = draw(st.lists(st.lists(cells, min_size=2, max_size=2), max_size=8))
    text = newline.join(",".join(line) for line in lines)
    text += draw(st.sampled_from(["", newline]))
    if draw(st.booleans()):
        at = draw(st.integers(0, len(text)))
        stray = draw(st.sampled_from(['"', " ", "\r", "\n", "\x00"]))
        text = text[:at] + stray + text[at:]
    return text


@settings(max_examples=300, deadline=None, database=None)
@given(
    text=csv_texts(),
    header_row=st.sampled_from([1, 2]),
    encoding=st.sampled_from(["utf-8", "gb18030"]),
)
def test_inspecting_in_small_pieces_should_find_what_one_piece_finds(
    tmp_path_factory: pytest.TempPathFactory,
    text: str,
    header_row: int,
    encoding: str,
) -> None:
    root = tmp_path_factory.mktemp("inspect")
    path = root / "export.csv"
    path.write_bytes(text.encode(encoding))
    mapping = DatasetMapping.model_validate(
        {"files": ["*"], "fields": {}, "header_row": header_row}
    )

    whole = _inspected(path, mapping, root / "whole", 1 << 20)

    for chunk_bytes in (1, 2, 3, 7):
        assert (
            _inspected(path, mapping, root / f"by{chunk_bytes}", chunk_bytes) == whole
        )
    event("not simple" if whole[0] == "not simple" else "simple")
    if whole[0] != "not simple":
        data = whole[4]
        assert whole[3] == len(data) > 0
        assert not any(line.strip("\r\n") == "" for line in data)
