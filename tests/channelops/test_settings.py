"""Settings: the DuckDB memory limit reaches every connection to the warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy
from pydantic import ValidationError

from channelops.settings import Settings
from channelops.warehouse import Warehouse


def memory_limit_of_warehouse(settings: Settings) -> str:
    with Warehouse(settings) as warehouse:
        ((limit,),) = warehouse.query("select current_setting('memory_limit')")
    return str(limit)


def test_the_warehouse_should_open_with_the_configured_memory_limit(
    isolated_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHANNELOPS_DUCKDB_MEMORY_LIMIT", "512MB")

    assert memory_limit_of_warehouse(Settings()) == "488.2 MiB"


def test_the_default_memory_limit_should_be_two_gigabytes(
    isolated_settings: Path,
) -> None:
    assert memory_limit_of_warehouse(Settings()) == "1.8 GiB"


def test_the_gate_connection_should_carry_the_same_limit_as_the_warehouse(
    isolated_settings: Path,
) -> None:
    settings = Settings(duckdb_memory_limit="25%")
    memory_limit_of_warehouse(settings)
    engine = sqlalchemy.create_engine(settings.warehouse_url)
    try:
        with engine.connect() as connection:
            gate_limit = connection.execute(
                sqlalchemy.text("select current_setting('memory_limit')")
            ).scalar_one()
    finally:
        engine.dispose()

    assert gate_limit == memory_limit_of_warehouse(settings)


def test_dbt_should_be_given_the_memory_limit(isolated_settings: Path) -> None:
    env = Settings(duckdb_memory_limit="3GB").dbt_env()

    assert env["CHANNELOPS_DUCKDB_MEMORY_LIMIT"] == "3GB"


@pytest.mark.parametrize("limit", ["lots", "2 G", "-1GB", "2GB; drop table x"])
def test_a_memory_limit_that_is_not_a_size_should_be_refused(limit: str) -> None:
    with pytest.raises(ValidationError, match="duckdb_memory_limit"):
        Settings(duckdb_memory_limit=limit)
