"""Tests for channelops.demo: the demo export files and their mapping."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from channelops.contract import DATASETS
from channelops.demo import DEMO_MAPPING, DemoSummary, generate_demo
from channelops.mapping import DatasetMapping, SourceMapping, load_mapping

Row = dict[str, Any]

TIMESTAMP = "%Y-%m-%d %H:%M:%S"
DEFAULT_QUARTERS = (
    "2024Q4", "2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3",
)  # fmt: skip
LAST_QUARTERS = DEFAULT_QUARTERS[-2:]
EARLIER_QUARTERS = DEFAULT_QUARTERS[-4:-2]
SMALL: dict[str, Any] = {
    "partner_count": 12,
    "first_quarter": "2025Q3",
    "last_quarter": "2026Q2",
}
BOM = b"\xef\xbb\xbf"


@pytest.fixture(scope="module")
def drop_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo")


@pytest.fixture(scope="module")
def summary(drop_dir: Path) -> DemoSummary:
    return generate_demo(drop_dir)


@pytest.fixture(scope="module")
def mapping() -> SourceMapping:
    return load_mapping(DEMO_MAPPING)


@pytest.fixture(scope="module")
def rows(
    summary: DemoSummary, drop_dir: Path, mapping: SourceMapping
) -> dict[str, list[Row]]:
    """Every dataset's rows, read as the mapping says, keyed by dataset."""
    return {
        name: [
            row for path in _files(drop_dir, dataset) for row in _read(path, dataset)
        ]
        for name, dataset in mapping.datasets.items()
    }


def _files(drop_dir: Path, dataset: DatasetMapping) -> list[Path]:
    return sorted(path for pattern in dataset.files for path in drop_dir.glob(pattern))


def _read(path: Path, dataset: DatasetMapping) -> list[Row]:
    if path.suffix == ".xlsx":
        return _read_sheet(path, dataset.sheet, dataset.header_row)
    text = _decode(path.read_bytes(), dataset.encoding)
    lines = text.splitlines(keepends=True)[dataset.header_row - 1 :]
    return list(csv.DictReader(lines, delimiter=dataset.delimiter))


def _decode(data: bytes, encoding: str) -> str:
    """Decode like ``encoding: auto``: BOM, else UTF-8, else GB18030."""
    if encoding != "auto":
        return data.decode(encoding)
    if data.startswith(BOM):
        return data.decode("utf-8-sig")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def _read_sheet(path: Path, sheet: str | None, header_row: int) -> list[Row]:
    workbook = openpyxl.load_workbook(path, read_only=True)
    worksheet = workbook[sheet] if sheet is not None else workbook.active
    values = list(worksheet.iter_rows(min_row=header_row, values_only=True))
    workbook.close()
    header = [str(cell) for cell in values[0]]
    return [dict(zip(header, row, strict=True)) for row in values[1:]]


def _net_sales_by_partner_quarter(lines: list[Row]) -> dict[str, dict[str, Decimal]]:
    sales: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for line in lines:
        sign = 1 if line["单据类型"] == "销售" else -1
        quarter = _quarter(line["单据日期"])
        sales[line["经销商编码"]][quarter] += sign * Decimal(line["折后金额"])
    return sales


def _quarter(slashed_date: str) -> str:
    day = datetime.strptime(slashed_date, "%Y/%m/%d")
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def _amount(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def test_generate_demo_twice_gives_identical_bytes(tmp_path: Path) -> None:
    first = generate_demo(tmp_path / "first")
    second = generate_demo(tmp_path / "second")

    assert [p.name for p in first.files] == [p.name for p in second.files]
    for one, other in zip(first.files, second.files, strict=True):
        assert one.read_bytes() == other.read_bytes(), one.name


def test_generate_demo_with_another_seed_gives_other_sales(tmp_path: Path) -> None:
    generate_demo(tmp_path / "one", seed=1, **SMALL)
    generate_demo(tmp_path / "other", seed=2, **SMALL)

    sales = "销售明细_2025Q3.csv"
    assert (tmp_path / "one" / sales).read_bytes() != (
        tmp_path / "other" / sales
    ).read_bytes()


def test_generate_demo_writes_one_file_per_dataset_and_per_quarter(
    summary: DemoSummary, drop_dir: Path
) -> None:
    names = sorted(p.name for p in drop_dir.iterdir())

    assert names == sorted(p.name for p in summary.files)
    assert {"经销商档案.xlsx", "经销商联系人.csv", "回款记录.csv"} <= set(names)
    assert {"客户反馈.csv", "市场活动.xlsx"} <= set(names)
    sales_files = [n for n in names if n.startswith("销售明细_")]
    assert sales_files == [f"销售明细_{q}.csv" for q in summary.quarters]


def test_summary_covers_every_quarter_from_first_to_last(summary: DemoSummary) -> None:
    assert summary.quarters == DEFAULT_QUARTERS


def test_summary_counts_the_rows_written(
    summary: DemoSummary, rows: dict[str, list[Row]]
) -> None:
    assert summary.counts == {name: len(found) for name, found in rows.items()}


def test_default_demo_has_between_8000_and_15000_order_lines(
    summary: DemoSummary,
) -> None:
    assert 8000 <= summary.order_lines <= 15000


def test_demo_mapping_loads_and_covers_every_dataset(
    mapping: SourceMapping, summary: DemoSummary
) -> None:
    assert mapping.name == "demo"
    assert set(mapping.datasets) == set(DATASETS) == set(summary.counts)


def test_every_column_the_mapping_names_is_in_its_files(
    mapping: SourceMapping, rows: dict[str, list[Row]]
) -> None:
    for name, dataset in mapping.datasets.items():
        header = set(rows[name][0])
        for field, source in dataset.fields.items():
            missing = set(source.columns_used()) - header
            assert not missing, f"{name}.{field}: {missing} not in {sorted(header)}"


def test_every_coded_value_in_the_files_is_mapped(
    mapping: SourceMapping, rows: dict[str, list[Row]]
) -> None:
    for name, dataset in mapping.datasets.items():
        for field, source in dataset.fields.items():
            if not source.values or source.column is None:
                continue
            found = {row[source.column] for row in rows[name]} - {None, ""}
            assert found <= set(source.values), f"{name}.{field}: {found}"


def test_every_partner_referenced_exists_in_partners(
    rows: dict[str, list[Row]],
) -> None:
    known = {row["经销商编码"] for row in rows["partners"]}

    for name in (
        "partner_contacts",
        "order_lines",
        "payments",
        "feedback",
        "activities",
    ):
        referenced = {row["经销商编码"] for row in rows[name]}
        assert referenced <= known, f"{name}: {sorted(referenced - known)}"


def test_partner_ids_and_names_are_unique(rows: dict[str, list[Row]]) -> None:
    partners = rows["partners"]

    assert len({p["经销商编码"] for p in partners}) == len(partners)
    assert len({p["经销商名称"] for p in partners}) == len(partners)
    assert all(p["经销商名称"].endswith("有限公司") for p in partners)


def test_a_quarter_of_partners_are_sub_distributors_of_top_level_partners(
    rows: dict[str, list[Row]],
) -> None:
    partners = {p["经销商编码"]: p for p in rows["partners"]}
    subs = [p for p in partners.values() if p["上级经销商编码"]]

    assert len(subs) == len(partners) // 4
    for sub in subs:
        parent = partners[sub["上级经销商编码"]]
        assert parent["上级经销商编码"] is None
        assert parent["区域"] == sub["区域"]
        assert parent["合作开始日期"] < sub["合作开始日期"]


def test_a_few_partners_are_inactive_and_stopped_ordering(
    rows: dict[str, list[Row]],
) -> None:
    inactive = {p["经销商编码"] for p in rows["partners"] if p["状态"] == "停用"}
    sales = _net_sales_by_partner_quarter(rows["order_lines"])

    assert 1 <= len(inactive) <= 5
    for partner_id in inactive:
        assert not any(sales[partner_id][q] for q in LAST_QUARTERS)


def test_some_partner_nearly_stops_ordering_in_the_last_two_quarters(
    rows: dict[str, list[Row]],
) -> None:
    active = {p["经销商编码"] for p in rows["partners"] if p["状态"] == "正常"}
    sales = _net_sales_by_partner_quarter(rows["order_lines"])

    churners = [
        partner_id
        for partner_id in sorted(active)
        if sum(sales[partner_id][q] for q in LAST_QUARTERS)
        < sum(sales[partner_id][q] for q in EARLIER_QUARTERS) / 4
    ]

    assert churners


def test_returns_are_about_three_percent_of_lines(rows: dict[str, list[Row]]) -> None:
    lines = rows["order_lines"]
    returns = [line for line in lines if line["单据类型"] == "退货"]

    assert 0.02 <= len(returns) / len(lines) <= 0.04


def test_returns_are_booked_after_their_sale_sometimes_a_quarter_later(
    rows: dict[str, list[Row]],
) -> None:
    lines = rows["order_lines"]
    sold_on = {
        line["单号"]: line["单据日期"] for line in lines if line["单据类型"] == "销售"
    }
    returns = [line for line in lines if line["单据类型"] == "退货"]

    assert all(r["单据日期"] > sold_on[r["原单号"]] for r in returns)
    assert any(
        _quarter(r["单据日期"]) != _quarter(sold_on[r["原单号"]]) for r in returns
    )
    assert all(int(r["数量"]) > 0 and Decimal(r["折后金额"]) > 0 for r in returns)


def test_order_line_ids_from_the_mapping_template_are_unique(
    mapping: SourceMapping, rows: dict[str, list[Row]]
) -> None:
    template = mapping.datasets["order_lines"].fields["order_line_id"].template
    assert template is not None

    ids = [template.format(**line) for line in rows["order_lines"]]

    assert len(set(ids)) == len(ids)


def test_every_net_amount_has_two_decimals_and_is_quantity_times_discounted_price(
    rows: dict[str, list[Row]],
) -> None:
    for line in rows["order_lines"]:
        discount = Decimal(line["折扣率"].rstrip("%")) / 100
        gross = int(line["数量"]) * Decimal(line["单价"]) * (1 - discount)
        expected = gross.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

        assert line["折后金额"] == f"{expected:.2f}"


def test_sales_files_decode_as_gbk(summary: DemoSummary) -> None:
    sales_files = [p for p in summary.files if p.name.startswith("销售明细_")]

    for path in sales_files:
        assert path.read_bytes().decode("gbk").startswith("单据日期,")


def test_csv_files_carry_a_bom_only_where_expected(drop_dir: Path) -> None:
    assert (drop_dir / "经销商联系人.csv").read_bytes().startswith(BOM)
    assert (drop_dir / "客户反馈.csv").read_bytes().startswith(BOM)
    assert not (drop_dir / "回款记录.csv").read_bytes().startswith(BOM)


def test_payments_are_positive_and_some_partners_collect_under_85_percent(
    rows: dict[str, list[Row]],
) -> None:
    sales = _net_sales_by_partner_quarter(rows["order_lines"])
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for payment in rows["payments"]:
        paid[payment["经销商编码"]] += _amount(payment["回款金额"])

    assert all(_amount(p["回款金额"]) > 0 for p in rows["payments"])
    assert any("," in p["回款金额"] for p in rows["payments"])
    ratios = [
        paid[p] / sum(q.values()) for p, q in sales.items() if sum(q.values()) > 0
    ]
    assert any(ratio < Decimal("0.85") for ratio in ratios)
    assert all(ratio < Decimal("1.05") for ratio in ratios)


def test_feedback_has_late_missing_and_off_hours_first_responses(
    rows: dict[str, list[Row]],
) -> None:
    tickets = [f for f in rows["feedback"] if f["类型"] != "满意度回访"]
    created = [datetime.strptime(f["创建时间"], TIMESTAMP) for f in tickets]
    answered = [
        datetime.strptime(f["首次响应时间"], TIMESTAMP) - at
        for f, at in zip(tickets, created, strict=True)
        if f["首次响应时间"]
    ]
    late = [delay for delay in answered if delay > timedelta(hours=24)]

    assert all(delay > timedelta(0) for delay in answered)
    assert 0.08 <= len(late) / len(tickets) <= 0.25
    assert len(answered) < len(tickets)
    assert any(
        at.weekday() >= 5 or (at.weekday() == 4 and at.hour >= 18) for at in created
    )


def test_some_feedback_carries_a_satisfaction_score_from_1_to_5(
    rows: dict[str, list[Row]],
) -> None:
    scores = [Decimal(f["满意度"]) for f in rows["feedback"] if f["满意度"]]

    assert 0 < len(scores) < len(rows["feedback"])
    assert all(Decimal(1) <= s <= Decimal(5) for s in scores)


def test_activities_involve_many_partners_per_id_and_some_carry_costs(
    rows: dict[str, list[Row]],
) -> None:
    partners_per_activity: dict[str, set[str]] = defaultdict(set)
    for row in rows["activities"]:
        partners_per_activity[row["活动编号"]].add(row["经销商编码"])

    assert max(len(p) for p in partners_per_activity.values()) >= 10
    assert any(row["投入费用"] for row in rows["activities"])
    assert any(row["投入费用"] is None for row in rows["activities"])


def test_contacts_use_reserved_domains_and_a_few_speak_english(
    rows: dict[str, list[Row]],
) -> None:
    contacts = rows["partner_contacts"]
    reserved = ("example.com", "example.net", "example.org")

    assert all(c["邮箱"].split("@")[1].endswith(reserved) for c in contacts)
    english = [c for c in contacts if c["语言"] == "英文"]
    assert 0 < len(english) < len(contacts) / 4


def test_workbooks_carry_the_fixed_creation_date(summary: DemoSummary) -> None:
    for path in summary.files:
        if path.suffix == ".xlsx":
            workbook = openpyxl.load_workbook(path, read_only=True)
            assert workbook.properties.created == datetime(2026, 1, 1)
            workbook.close()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"first_quarter": "2025-Q3"}, "first_quarter '2025-Q3' is not a quarter"),
        ({"last_quarter": "2026Q5"}, "last_quarter '2026Q5' is not a quarter"),
        ({"first_quarter": "2026Q1", "last_quarter": "2025Q4"}, "swap them"),
        ({"partner_count": 3}, "got 3"),
    ],
)
def test_generate_demo_rejects_bad_arguments_before_writing(
    tmp_path: Path, arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        generate_demo(tmp_path / "drop", **arguments)

    assert not (tmp_path / "drop").exists()
