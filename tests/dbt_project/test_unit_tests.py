"""Every dbt unit test of the project passes on DuckDB and on PostgreSQL.

Runs leave unit tests out (channelops.transform.RUN_EXCLUDES): they check
the models' SQL on fixed rows, so they run here, on an empty warehouse of
each engine, the way dbt advises for CI: the models built with ``--empty``
so that each unit test's parents exist, then ``dbt test`` on unit tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from channelops.settings import Settings
from channelops.transform import load_rules, run_dbt
from channelops.warehouse import Warehouse
from tests.conftest import throwaway_postgres_database
from tests.dbt_project.test_rebates import GOLDEN_UNIT_TESTS

# The project had 38 unit tests when runs stopped running them; fewer
# found means the manifest lost some, not that they passed.
MIN_UNIT_TESTS = 38


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_warehouse(
    request: pytest.FixtureRequest, isolated_settings: Path
) -> Iterator[Settings]:
    """Settings of a warehouse with its tables and the repository's rules only."""
    if request.param == "duckdb":
        yield Settings(env="local")
        return
    with throwaway_postgres_database("unit_tests") as database:
        yield Settings(env="prod", pg_database=database)


def test_every_unit_test_should_pass_on_this_engine(
    empty_warehouse: Settings,
) -> None:
    settings = empty_warehouse
    with Warehouse(settings) as warehouse:
        warehouse.ensure_schema()
        load_rules(settings, warehouse)
    built = run_dbt(settings, "run", "--empty", "--no-use-colors")
    assert built.returncode == 0, built.stdout[-3000:]

    tested = run_dbt(settings, "test", "--select", "test_type:unit")

    target = settings.dbt_work_dir / "target"
    declared = {
        unique_id.rsplit(".", 1)[-1]
        for unique_id in json.loads((target / "manifest.json").read_text("utf-8"))[
            "unit_tests"
        ]
    }
    results = json.loads((target / "run_results.json").read_text("utf-8"))
    outcomes = {
        r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in results["results"]
    }
    assert tested.returncode == 0, tested.stdout[-3000:]
    assert len(declared) >= MIN_UNIT_TESTS
    assert outcomes == dict.fromkeys(declared, "pass")
    assert declared >= GOLDEN_UNIT_TESTS
