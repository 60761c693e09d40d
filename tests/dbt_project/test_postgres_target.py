"""The same models on PostgreSQL give the same money as on DuckDB."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from channelops.pull import pull
from channelops.settings import Settings
from channelops.transform import build_models, load_rules
from channelops.warehouse import Warehouse

pytestmark = pytest.mark.postgres

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A fresh, empty database, dropped after the test."""
    name = f"channelops_test_{uuid.uuid4().hex[:12]}"
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


def build(settings: Settings) -> dict[str, tuple[Decimal, Decimal, int]]:
    """Load, build, and read back per-statement money from ``settings``' target."""
    with Warehouse(settings) as warehouse:
        pull(settings, warehouse, batch_id="portability")
        load_rules(settings, warehouse)
    build_models(settings)
    with Warehouse(settings) as warehouse:
        rows = warehouse.query(
            "select statement_key, net_sales, total_amount, line_count "
            "from marts.fct_rebate_statements"
        )
    return {key: (net, total, count) for key, net, total, count in rows}


def test_postgres_target_gives_the_same_statements_as_duckdb(
    adventureworks_env: Path, postgres_database: str, isolated_settings: Path
) -> None:
    duckdb_statements = build(Settings(env="local"))
    postgres_statements = build(Settings(env="prod", pg_database=postgres_database))

    # Reseller-quarters with sales in the sample.
    assert len(duckdb_statements) == 3600
    assert postgres_statements == duckdb_statements
    total = sum(t for _, t, _ in duckdb_statements.values())
    assert total == sum(t for _, t, _ in postgres_statements.values())

    # The scorecards too: same rows, tiers and ranks; scores may differ by a
    # cent where DuckDB rates a metric in floating point before the cast.
    duckdb_cards = scorecards(Settings(env="local"))
    postgres_cards = scorecards(Settings(env="prod", pg_database=postgres_database))
    assert duckdb_cards.keys() == postgres_cards.keys()
    assert len(duckdb_cards) > len(duckdb_statements)
    for key, (score, *rest) in duckdb_cards.items():
        pg_score, *pg_rest = postgres_cards[key]
        assert pg_rest == rest, key
        assert abs(pg_score - score) <= Decimal("0.01"), key


def scorecards(settings: Settings) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    """Score, tier, ranks and a few metrics per partner, grain and period."""
    with Warehouse(settings) as warehouse:
        rows = warehouse.query(
            "select partner_id, grain, period, score, tier, tier_change, "
            "tier_rank, region_rank, net_sales, order_count, "
            "days_since_last_order, sales_growth_yoy "
            "from intermediate.int_scorecards__ranked"
        )
    return {(p, g, period): tuple(rest) for p, g, period, *rest in rows}
