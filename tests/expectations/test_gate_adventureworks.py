"""The whole gate on the AdventureWorks data, built on PostgreSQL: it passes.

(On DuckDB the settlement flow tests run the same gate on the same data.)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from channelops.periods import Quarter
from channelops.pull import pull
from channelops.settings import Settings
from channelops.transform import build_models, load_rules
from channelops.warehouse import Warehouse
from expectations.checks import Scope
from expectations.config import load_gate_config
from expectations.gate import run_gate
from expectations.suites import all_checks, gate_suites
from tests.expectations.gate_warehouse import run_postgres_sql

pytestmark = pytest.mark.postgres


@pytest.fixture
def adventureworks_database() -> Iterator[str]:
    name = f"gate_aw_{uuid.uuid4().hex[:12]}"
    run_postgres_sql("postgres", (f"create database {name}",))
    yield name
    run_postgres_sql("postgres", (f"drop database if exists {name} with (force)",))


def test_gate_should_pass_on_adventureworks_in_postgres(
    adventureworks_env: Path, adventureworks_database: str
) -> None:
    settings = Settings(env="prod", pg_database=adventureworks_database)
    with Warehouse(settings) as warehouse:
        pull(settings, warehouse, batch_id="aw")
        load_rules(settings, warehouse)
    build_models(settings)

    config = load_gate_config(settings.config_dir)
    scope = Scope(Quarter.parse("2019Q4"), "USD", date(2026, 12, 4), config)
    report = run_gate(settings.warehouse_url, scope, run_id="aw")

    assert [c.name for c in report.checks if c.success is not True] == []
    assert len(report.checks) == len(all_checks(gate_suites(scope)))
    observed = {c.name: c.observed for c in report.checks}
    assert observed["order_lines_present_in_period"] == "7743 rows"
