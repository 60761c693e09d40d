"""Fixtures for the gate tests: tiny DuckDB and PostgreSQL warehouses."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.expectations.gate_warehouse import (
    GOOD_DATA_SQL,
    SCHEMA_SQL,
    SCHEMAS,
    run_duckdb_sql,
    run_postgres_sql,
)


@pytest.fixture(scope="session")
def good_duckdb_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB warehouse with the good quarter, built once; copy it, never write."""
    path = tmp_path_factory.mktemp("warehouse") / "good.duckdb"
    run_duckdb_sql(path, (*SCHEMA_SQL, *GOOD_DATA_SQL))
    return path


@pytest.fixture
def duckdb_warehouse(good_duckdb_file: Path, tmp_path: Path) -> Path:
    """A private copy of the good DuckDB warehouse, for one test to break."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(good_duckdb_file, path)
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A PostgreSQL database of its own for this test session, dropped at the end."""
    name = f"gate_test_{secrets.token_hex(4)}"
    run_postgres_sql("postgres", (f"create database {name}",))
    yield name
    run_postgres_sql("postgres", (f"drop database {name} with (force)",))


@pytest.fixture
def postgres_warehouse(postgres_database: str) -> str:
    """The good quarter, freshly loaded into the session's PostgreSQL database."""
    reset = tuple(f"drop schema if exists {schema} cascade" for schema in SCHEMAS)
    run_postgres_sql(postgres_database, (*reset, *SCHEMA_SQL, *GOOD_DATA_SQL))
    return postgres_database
