"""An incremental sales build equals a full refresh after late and changed rows.

One network from the bench generator is loaded and built; then a file of an
old quarter (outside the lookback) is changed (a line dropped, an amount
changed, a line moved to another quarter and partner) and a file of
late-arriving lines for another old quarter is dropped. The incremental
build must then hold exactly what ``--full-refresh`` builds, on DuckDB and
on PostgreSQL.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from bench.generate import generate, scale_of
from channelops.pull import pull
from channelops.settings import Settings
from channelops.transform import load_rules, run_dbt
from channelops.warehouse import Warehouse

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}
SELECTION = ("--select", "+int_sales__partner_quarters")
CHANGED_FILE = "销售明细_2025Q1.csv"
LATE_FILE = "销售明细_2025Q2_late.csv"
SALES_ENCODING = "gb18030"


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("issue8_network")
    generate(folder, scale_of("10k"))
    return folder


@pytest.fixture
def drop(network: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    for path in network.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    monkeypatch.setenv("CHANNELOPS_DROP_DIR", str(folder))
    return folder


@pytest.fixture
def postgres_database() -> Iterator[str]:
    name = f"issue8_incremental_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(**PG)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"create database {name}")
    try:
        yield name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"drop database if exists {name} with (force)")
        admin.close()


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding=SALES_ENCODING, newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding=SALES_ENCODING, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def change_old_quarter_and_add_late_lines(drop: Path) -> str:
    """Edit 2025Q1's file and drop late lines for 2025Q2, both before lookback.

    Returns the partner whose 2025Q1 lines were all removed.
    """
    header, rows = _rows(drop / CHANGED_FILE)
    column = {name: index for index, name in enumerate(header)}
    # Every line of one partner goes: only the replaced rows' record says so.
    gone = _fewest_lines_partner(rows, column["经销商编码"])
    rows = [row for row in rows if row[column["经销商编码"]] != gone]
    rows[1][column["折后金额"]] = "12345.67"
    rows[2][column["单据日期"]] = "2024/12/30"
    rows[2][column["经销商编码"]] = "D000099"
    _write(drop / CHANGED_FILE, header, rows)
    late = [list(row) for row in rows[10:14]]
    for number, row in enumerate(late):
        row[column["单号"]] = f"XSLATE{number:06d}"
        row[column["单据日期"]] = "2025/05/15"
    _write(drop / LATE_FILE, header, late)
    return gone


def _fewest_lines_partner(rows: list[list[str]], column: int) -> str:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[column]] = counts.get(row[column], 0) + 1
    return min(sorted(counts), key=lambda partner: counts[partner])


def _load_and_build(settings: Settings, batch: str, *extra: str) -> None:
    with Warehouse(settings) as warehouse:
        pull(settings, warehouse, batch_id=batch)
        load_rules(settings, warehouse)
    completed = run_dbt(settings, "run", *SELECTION, *extra)
    assert completed.returncode == 0, completed.stdout[-3000:]


def _snapshot(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    with Warehouse(settings) as warehouse:
        return {
            "sales": warehouse.query(
                "select partner_id, quarter_index, period, line_count, order_count, "
                "gross_sales, returns_amount "
                "from intermediate.int_sales__partner_quarter_sales "
                "where line_count > 0 order by partner_id, quarter_index"
            ),
            "quarters": warehouse.query(
                "select partner_id, period, order_count, gross_sales, "
                "returns_amount, net_sales, collected_amount "
                "from intermediate.int_sales__partner_quarters "
                "order by partner_id, period"
            ),
        }


def incremental_then_full_refresh(
    settings: Settings, drop: Path
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], str]:
    _load_and_build(settings, "issue8-first")
    before = _snapshot(settings)
    gone = change_old_quarter_and_add_late_lines(drop)
    _load_and_build(settings, "issue8-second")
    incremental = _snapshot(settings)
    completed = run_dbt(settings, "run", *SELECTION, "--full-refresh")
    assert completed.returncode == 0, completed.stdout[-3000:]
    return before, incremental, _snapshot(settings), gone


def _net(snapshot: dict[str, Any], partner: str, period: str) -> Decimal:
    return next(
        (r[5] for r in snapshot["quarters"] if r[0] == partner and r[1] == period),
        Decimal("0"),
    )


def test_incremental_build_equals_full_refresh_on_duckdb(drop: Path) -> None:
    before, incremental, full, gone = incremental_then_full_refresh(
        Settings(env="local"), drop
    )

    assert incremental == full
    assert incremental != before
    assert _net(full, "D000099", "2024Q4") != _net(before, "D000099", "2024Q4")
    assert _net(full, gone, "2025Q1") == 0 != _net(before, gone, "2025Q1")


@pytest.mark.postgres
def test_incremental_build_equals_full_refresh_on_postgres(
    drop: Path, postgres_database: str
) -> None:
    before, incremental, full, _gone = incremental_then_full_refresh(
        Settings(env="prod", pg_database=postgres_database), drop
    )

    assert incremental == full
    assert incremental != before
