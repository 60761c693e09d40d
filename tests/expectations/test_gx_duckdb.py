"""The DuckDB shim: idempotent, and the gate fails closed when it is missing."""

from __future__ import annotations

from pathlib import Path

import pytest
from great_expectations.execution_engine import sqlalchemy_execution_engine

from expectations import gate, gx_duckdb
from expectations.gate import run_gate
from tests.expectations.gate_warehouse import duckdb_url, scope


def test_enabling_twice_should_register_duckdb_once() -> None:
    gx_duckdb.enable_duckdb_persisted_connection()
    gx_duckdb.enable_duckdb_persisted_connection()

    registry = sqlalchemy_execution_engine._PERSISTED_CONNECTION_DIALECTS
    assert gx_duckdb.is_duckdb_persisted_connection_enabled()
    assert [dialect for dialect in registry if dialect == "duckdb"] == ["duckdb"]


def test_shim_should_make_gx_count_real_rows(good_duckdb_file: Path) -> None:
    report = run_gate(duckdb_url(good_duckdb_file), scope(), run_id="shim")

    observed = {check.name: check.observed for check in report.checks}
    assert observed["order_lines_present_in_period"] == "4 rows"
    assert observed["partner_scorecard_present_in_period"] == "3 rows"
    assert observed["partners_present"] == "3 rows"


def test_gate_without_shim_should_fail_closed(
    good_duckdb_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = sqlalchemy_execution_engine._PERSISTED_CONNECTION_DIALECTS
    monkeypatch.setattr(
        sqlalchemy_execution_engine,
        "_PERSISTED_CONNECTION_DIALECTS",
        tuple(dialect for dialect in registry if dialect != "duckdb"),
    )
    monkeypatch.setattr(gate, "enable_duckdb_persisted_connection", lambda: None)

    report = run_gate(duckdb_url(good_duckdb_file), scope(), run_id="shim")
    row_count = next(
        check
        for check in report.checks
        if check.name == "order_lines_present_in_period"
    )

    assert report.passed is False
    assert row_count.success is None
    assert row_count.error == "list index out of range"
    assert all(check.success is not True for check in report.checks)


def test_renamed_gx_internals_should_stop_the_shim(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(sqlalchemy_execution_engine, "_PERSISTED_CONNECTION_DIALECTS")

    with pytest.raises(RuntimeError, match="GX changed its internals"):
        gx_duckdb.enable_duckdb_persisted_connection()
