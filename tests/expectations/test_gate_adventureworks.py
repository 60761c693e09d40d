"""The whole gate on the AdventureWorks data, built on DuckDB and on PostgreSQL.

The real pull, rules and dbt build, then every check of the 2019Q4
settlement and of the 2019-12 monthly scorecard run: each passes, on both
warehouses, with the AdventureWorks gate.yml (no payments, feedback,
activities or targets are supplied).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from channelops.periods import Month, Quarter
from channelops.pull import pull
from channelops.settings import Settings
from channelops.transform import build_models, load_rules
from channelops.warehouse import Warehouse
from expectations.checks import Scope
from expectations.config import load_gate_config
from expectations.gate import run_gate
from expectations.report import GateReport, Verdict
from expectations.suites import all_checks, gate_suites
from tests.expectations.gate_warehouse import run_postgres_sql

TODAY = date(2026, 12, 4)


@pytest.fixture
def adventureworks_database() -> Iterator[str]:
    name = f"gate_aw_{uuid.uuid4().hex[:12]}"
    run_postgres_sql("postgres", (f"create database {name}",))
    yield name
    run_postgres_sql("postgres", (f"drop database if exists {name} with (force)",))


def build(settings: Settings) -> None:
    with Warehouse(settings) as warehouse:
        pull(settings, warehouse, batch_id="aw")
        load_rules(settings, warehouse)
    build_models(settings)


def gate(settings: Settings, scope: Scope) -> GateReport:
    return run_gate(settings.warehouse_url, scope, run_id="aw")


def assert_gate_passes(settings: Settings) -> None:
    config = load_gate_config(settings.config_dir)
    quarter = Scope(Quarter.parse("2019Q4"), "USD", TODAY, config)
    month = Scope.for_month(Month.parse("2019-12"), "USD", TODAY, config)

    settlement, monthly = gate(settings, quarter), gate(settings, month)

    for scope, report in ((quarter, settlement), (month, monthly)):
        assert [c.name for c in report.checks if c.success is not True] == []
        assert [c.name for c in report.checks] == [
            c.name for c in all_checks(gate_suites(scope))
        ]
        assert report.verdict() is Verdict.PUBLISH
    observed = {c.name: c.observed for c in settlement.checks}
    assert observed["order_lines_present_in_period"] == "7743 rows"


def test_gate_should_pass_on_adventureworks_in_duckdb(
    adventureworks_env: Path,
) -> None:
    settings = Settings(env="local")
    build(settings)

    assert_gate_passes(settings)


@pytest.mark.postgres
def test_gate_should_pass_on_adventureworks_in_postgres(
    adventureworks_env: Path, adventureworks_database: str
) -> None:
    settings = Settings(env="prod", pg_database=adventureworks_database)
    build(settings)

    assert_gate_passes(settings)
