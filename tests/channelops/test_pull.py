"""Tests for channelops.pull: a drop folder into raw tables and the quarantine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from channelops.demo import DemoSummary, generate_demo
from channelops.errors import InputError
from channelops.pull import PullReport, pull
from channelops.settings import Settings
from channelops.warehouse import Warehouse

# A shop's export: partners and order lines, with Chinese codes for line types.
MAPPING = """\
name: shop
timezone: Asia/Shanghai
datasets:
  partners:
    files: ["partners.csv"]
    fields:
      partner_id: code
      partner_name: name
  order_lines:
    files: ["orders_*.csv"]
    fields:
      order_line_id: {template: "{order}-{line}"}
      order_id: order
      partner_id: code
      order_date: date
      quantity: qty
      net_amount: amount
      currency: {value: CNY}
      line_type:
        column: type
        values: {销售: sale, 退货: return}
"""
PARTNERS = "code,name\nP001,华东贸易有限公司\nP002,北方商贸有限公司\n"
ORDERS_HEADER = "order,line,code,date,qty,amount,type\n"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    config_dir = tmp_path / "config"
    (config_dir / "sources").mkdir(parents=True)
    (config_dir / "sources" / "x.yml").write_text(MAPPING, encoding="utf-8")
    drop_dir = tmp_path / "drop"
    drop_dir.mkdir()
    (drop_dir / "partners.csv").write_text(PARTNERS, encoding="utf-8")
    return Settings(config_dir=config_dir, drop_dir=drop_dir)


@pytest.fixture
def warehouse(settings: Settings) -> Iterator[Warehouse]:
    with Warehouse(settings) as opened:
        yield opened


def _orders(settings: Settings, name: str, *lines: str) -> Path:
    path = settings.inbox_dir / name
    path.write_text(ORDERS_HEADER + "".join(f"{line}\n" for line in lines), "utf-8")
    return path


def _file(report: PullReport, name: str) -> Any:
    (found,) = [f for f in report.files if f.file_name == name]
    return found


def _quarantine(warehouse: Warehouse, file_name: str) -> list[tuple[Any, ...]]:
    return warehouse.query(
        "select file_name, row_number, field, value, reason from ops.quarantine "
        "where file_name = ? order by row_number, field",
        (file_name,),
    )


def _loaded_ids(warehouse: Warehouse) -> list[tuple[str, str, int]]:
    return [
        (line_id, file_name, row)
        for line_id, file_name, row in warehouse.query(
            "select order_line_id, _file_name, _row_number from raw.order_lines "
            "order by order_line_id"
        )
    ]


def test_every_row_read_should_be_loaded_or_quarantined(
    settings: Settings, warehouse: Warehouse
) -> None:
    _orders(
        settings,
        "orders_q1.csv",
        "SO1,1,P001,2025-01-03,2,200.00,销售",
        "SO1,2,P001,2025-01-03,1,12.345,销售",
        "SO2,1,P002,2025/01/04,,50.00,销售",
        "SO3,1,P002,2025-01-05,1,80.00,赠品",
        "RT1,1,P002,2025-01-09,1,80.00,退货",
    )

    report = pull(settings, warehouse, batch_id="b1")

    orders = _file(report, "orders_q1.csv")
    assert (orders.rows_read, orders.rows_loaded, orders.rows_quarantined) == (5, 2, 3)
    assert _loaded_ids(warehouse) == [
        ("RT1-1", "orders_q1.csv", 6),
        ("SO1-1", "orders_q1.csv", 2),
    ]
    quarantined = _quarantine(warehouse, "orders_q1.csv")
    assert [row[:4] for row in quarantined] == [
        ("orders_q1.csv", 3, "net_amount", "12.345"),
        ("orders_q1.csv", 4, "order_date", "2025/01/04"),
        ("orders_q1.csv", 4, "quantity", None),
        ("orders_q1.csv", 5, "line_type", "赠品"),
    ]
    assert "3 decimal places" in quarantined[0][4]
    assert quarantined[2][4] == "required value is missing"


def test_load_files_counts_should_reconcile_with_raw_and_quarantine(
    settings: Settings, warehouse: Warehouse
) -> None:
    _orders(
        settings,
        "orders_q1.csv",
        "SO1,1,P001,2025-01-03,2,200.00,销售",
        "SO2,1,P002,bad,bad,bad,bad",
        "SO3,1,P999,2025-01-05,1,80.00,销售",
    )

    pull(settings, warehouse, batch_id="b1")

    recorded = warehouse.query(
        "select f.file_name, f.rows_read, f.rows_loaded, f.rows_quarantined, "
        "(select count(*) from raw.order_lines as r "
        " where r._file_name = f.file_name), "
        "(select count(distinct q.row_number) from ops.quarantine as q "
        " where q.file_name = f.file_name) "
        "from ops.load_files as f where f.dataset = 'order_lines'"
    )
    assert recorded == [("orders_q1.csv", 3, 1, 2, 1, 2)]


def test_partners_should_load_before_the_rows_that_reference_them(
    settings: Settings, warehouse: Warehouse
) -> None:
    _orders(settings, "orders_q1.csv", "SO1,1,P001,2025-01-03,2,200.00,销售")

    report = pull(settings, warehouse, batch_id="b1")

    assert [f.dataset for f in report.files] == ["partners", "order_lines"]
    assert report.total("rows_loaded") == 3
    assert report.total("rows_quarantined") == 0


def test_same_file_pulled_twice_should_be_skipped_and_nothing_doubles(
    settings: Settings, warehouse: Warehouse
) -> None:
    _orders(
        settings,
        "orders_q1.csv",
        "SO1,1,P001,2025-01-03,2,200.00,销售",
        "SO2,1,P001,2025-01-03,2,oops,销售",
    )
    pull(settings, warehouse, batch_id="b1")

    again = pull(settings, warehouse, batch_id="b2")

    assert all(f.skipped for f in again.files)
    assert again.summary_lines() == [
        "partners: partners.csv unchanged, skipped",
        "order_lines: orders_q1.csv unchanged, skipped",
    ]
    assert warehouse.query("select count(*) from raw.partners") == [(2,)]
    assert warehouse.query("select count(*) from raw.order_lines") == [(1,)]
    assert warehouse.query("select count(*) from ops.quarantine") == [(1,)]
    assert warehouse.query("select count(*) from ops.load_files") == [(2,)]


def test_changed_file_should_replace_its_earlier_rows(
    settings: Settings, warehouse: Warehouse
) -> None:
    _orders(
        settings,
        "orders_q1.csv",
        "SO1,1,P001,2025-01-03,2,200.00,销售",
        "SO2,1,P001,2025-01-03,1,oops,销售",
        "SO3,1,P002,2025-01-04,1,90.00,销售",
    )
    pull(settings, warehouse, batch_id="b1")
    _orders(
        settings,
        "orders_q1.csv",
        "SO1,1,P001,2025-01-03,2,210.00,销售",
        "SO2,1,P001,2025-01-03,1,100.00,销售",
    )

    report = pull(settings, warehouse, batch_id="b2")

    assert _file(report, "partners.csv").skipped
    assert _file(report, "orders_q1.csv").rows_loaded == 2
    assert warehouse.query(
        "select order_line_id, net_amount, _batch_id from raw.order_lines "
        "order by order_line_id"
    ) == [("SO1-1", 210, "b2"), ("SO2-1", 100, "b2")]
    assert _quarantine(warehouse, "orders_q1.csv") == []


def test_duplicate_key_within_a_file_should_be_quarantined_naming_the_first_row(
    settings: Settings, warehouse: Warehouse
) -> None:
    _orders(
        settings,
        "orders_q1.csv",
        "SO1,1,P001,2025-01-03,2,200.00,销售",
        "SO1,2,P001,2025-01-03,2,200.00,销售",
        "SO1,1,P001,2025-01-03,5,500.00,销售",
    )

    report = pull(settings, warehouse, batch_id="b1")

    assert _file(report, "orders_q1.csv").rows_quarantined == 1
    assert _quarantine(warehouse, "orders_q1.csv") == [
        (
            "orders_q1.csv",
            4,
            "order_line_id",
            "SO1-1",
            "duplicate key, first seen in this file at row 2",
        )
    ]
    assert [i for i, _, _ in _loaded_ids(warehouse)] == ["SO1-1", "SO1-2"]


def test_key_loaded_from_another_file_should_be_quarantined_naming_that_file(
    settings: Settings, warehouse: Warehouse
) -> None:
    _orders(settings, "orders_a.csv", "SO1,1,P001,2025-01-03,2,200.00,销售")
    _orders(
        settings,
        "orders_b.csv",
        "SO9,1,P002,2025-02-03,1,90.00,销售",
        "SO1,1,P001,2025-01-03,2,200.00,销售",
    )

    report = pull(settings, warehouse, batch_id="b1")

    assert _file(report, "orders_b.csv").rows_loaded == 1
    ((file_name, row, field, value, reason),) = _quarantine(warehouse, "orders_b.csv")
    assert (file_name, row, field, value) == (
        "orders_b.csv",
        3,
        "order_line_id",
        "SO1-1",
    )
    assert "already loaded from shop/orders_a.csv row 2" in reason
    assert _loaded_ids(warehouse) == [
        ("SO1-1", "orders_a.csv", 2),
        ("SO9-1", "orders_b.csv", 2),
    ]


def test_order_line_for_an_unknown_partner_should_be_quarantined(
    settings: Settings, warehouse: Warehouse
) -> None:
    _orders(
        settings,
        "orders_q1.csv",
        "SO1,1,P001,2025-01-03,2,200.00,销售",
        "SO2,1,P404,2025-01-03,1,100.00,销售",
        "SO3,1,P002,2025-01-04,1,90.00,销售",
    )

    report = pull(settings, warehouse, batch_id="b1")

    assert _file(report, "orders_q1.csv").rows_loaded == 2
    ((_, row, field, value, reason),) = _quarantine(warehouse, "orders_q1.csv")
    assert (row, field, value) == (3, "partner_id", "P404")
    assert reason.startswith("unknown partner")
    assert [i for i, _, _ in _loaded_ids(warehouse)] == ["SO1-1", "SO3-1"]


def test_row_with_wrong_cell_count_should_be_quarantined_as_a_row(
    settings: Settings, warehouse: Warehouse
) -> None:
    _orders(
        settings,
        "orders_q1.csv",
        "SO1,1,P001,2025-01-03,2,1,200.00,销售",
        "SO2,1,P001,2025-01-03,1,100.00,销售",
    )

    pull(settings, warehouse, batch_id="b1")

    ((_, row, field, value, reason),) = _quarantine(warehouse, "orders_q1.csv")
    assert (row, field, value) == (2, "(row)", None)
    assert "row has 8 cells but the header has 7" in reason


def test_mapped_column_missing_from_the_header_should_raise_naming_it(
    settings: Settings, warehouse: Warehouse
) -> None:
    (settings.inbox_dir / "orders_q1.csv").write_text(
        "order,line,code,date,qty,type\nSO1,1,P001,2025-01-03,2,销售\n", "utf-8"
    )

    with pytest.raises(InputError) as caught:
        pull(settings, warehouse, batch_id="b1")

    message = str(caught.value)
    assert message.startswith("orders_q1.csv: column(s) ['amount']")
    assert "source mapping 'shop'" in message


def test_missing_drop_folder_should_raise_naming_the_folder(tmp_path: Path) -> None:
    settings = Settings(drop_dir=tmp_path / "nowhere")

    with Warehouse(settings) as warehouse, pytest.raises(InputError) as caught:
        pull(settings, warehouse, batch_id="b1")

    assert f"drop folder {tmp_path / 'nowhere'} does not exist" in str(caught.value)
    assert "CHANNELOPS_DROP_DIR" in str(caught.value)


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[DemoSummary, Settings, Warehouse, PullReport]]:
    """The full demo drop folder, pulled once with the repository's config."""
    root = tmp_path_factory.mktemp("demo_pull")
    summary = generate_demo(root / "drop")
    settings = Settings(home=root / "home", drop_dir=root / "drop")
    with Warehouse(settings) as warehouse:
        yield summary, settings, warehouse, pull(settings, warehouse, batch_id="d1")


def test_full_demo_should_load_every_row_the_generator_wrote(
    demo: tuple[DemoSummary, Settings, Warehouse, PullReport],
) -> None:
    summary, _, warehouse, report = demo

    loaded = {
        name: warehouse.query(f"select count(*) from raw.{name}")[0][0]
        for name in summary.counts
    }
    assert loaded == summary.counts
    assert report.total("rows_read") == sum(summary.counts.values())
    assert report.total("rows_quarantined") == 0
    assert warehouse.query("select count(*) from ops.quarantine") == [(0,)]


def test_full_demo_pulled_again_should_skip_every_file(
    demo: tuple[DemoSummary, Settings, Warehouse, PullReport],
) -> None:
    summary, settings, warehouse, _ = demo

    again = pull(settings, warehouse, batch_id="d2")

    assert len(again.files) == len(summary.files)
    assert all(f.skipped for f in again.files)
    assert warehouse.query("select count(*) from raw.order_lines") == [
        (summary.order_lines,)
    ]
