"""A quarantined row is reported with file, row, field and reason, then fixed
and reloaded: the real pull stage, then the order-line suite of the gate."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from channelops.periods import Quarter
from channelops.pull import pull
from channelops.settings import load_settings
from channelops.warehouse import Warehouse
from expectations.checks import Scope
from expectations.gate import run_gate
from expectations.report import GateReport
from expectations.suites import gate_suites
from tests.conftest import TEST_DATA

SCOPE = Scope(Quarter.parse("2019Q4"), "USD", date(2026, 12, 4))
ORDER_LINES = next(s for s in gate_suites(SCOPE) if s.name == "order_lines")
HEADER = (
    "SalesOrderNumber,OrderDate,ProductKey,ResellerKey,OrderQuantity,UnitPrice,"
    "SalesAmount\n"
)


def write_sales(drop: Path, third_amount: str) -> None:
    (drop / "FactResellerSales.csv").write_text(
        HEADER
        + "SO1,2019-10-02,310,1,2,100.00,200.00\n"
        + "SO1,2019-10-02,311,1,1,50.00,50.00\n"
        + f'SO2,2019-11-15,310,2,3,100.00,"{third_amount}"\n',
        encoding="utf-8",
    )


@pytest.fixture
def drop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "Resellers.csv").write_text(
        "ResellerKey,BusinessType,ResellerName,City,StateProvinceName,Country_Region\n"
        "1,Warehouse,First Bikes,Seattle,Washington,United States\n"
        "2,Specialty Bike Shop,Second Bikes,Portland,Oregon,United States\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("CHANNELOPS_DROP_DIR", str(folder))
    monkeypatch.setenv(
        "CHANNELOPS_CONFIG_DIR", str(TEST_DATA / "adventureworks" / "config")
    )
    monkeypatch.setenv("CHANNELOPS_CURRENCY", "USD")
    return folder


def pull_and_gate(batch_id: str) -> GateReport:
    settings = load_settings()
    with Warehouse(settings) as warehouse:
        pull(settings, warehouse, batch_id=batch_id)
    return run_gate(
        settings.warehouse_url, SCOPE, run_id=batch_id, suites=(ORDER_LINES,)
    )


def failing(report: GateReport) -> dict[str, tuple[str, ...]]:
    return {c.name: c.sample_rows for c in report.checks if c.success is not True}


def test_bad_amount_should_block_until_the_fixed_file_is_reloaded(
    drop: Path,
) -> None:
    write_sales(drop, "1,2,3")

    blocked = pull_and_gate("b1")

    assert failing(blocked) == {
        "order_lines_nothing_quarantined": (
            "file_name='FactResellerSales.csv', row_number=4, field='net_amount', "
            "value='1,2,3', reason='is not a number'",
        )
    }

    write_sales(drop, "300.00")
    fixed = pull_and_gate("b2")

    assert failing(fixed) == {}
    with Warehouse(load_settings()) as warehouse:
        assert warehouse.query("select count(*) from ops.quarantine") == [(0,)]
        assert warehouse.query(
            "select batch_id, rows_read, rows_loaded, rows_quarantined "
            "from ops.load_files where dataset = 'order_lines' order by loaded_at"
        ) == [("b1", 3, 2, 1), ("b2", 3, 3, 0)]
