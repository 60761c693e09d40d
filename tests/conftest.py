"""Fixtures shared by the whole suite: isolated settings and the public data."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from channelops.settings import apply_prefect_defaults

REPO = Path(__file__).resolve().parents[1]
TEST_DATA = REPO / "tests" / "data"
# The public datasets live beside the repository, never inside it.
SHARED_DATA = Path(
    os.environ.get("CHANNELOPS_SHARED_DATA", REPO.parent / "shared" / "data")
)
ADVENTUREWORKS = SHARED_DATA / "adventureworks_reseller"


@pytest.fixture(autouse=True)
def isolated_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Every test gets its own channelops home; no operator variable leaks in."""
    for name in list(os.environ):
        if name.startswith("CHANNELOPS_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    monkeypatch.setenv("CHANNELOPS_HOME", str(home))
    yield home


def adventureworks_drop(folder: Path) -> Path:
    """A drop folder holding the AdventureWorks files and the contacts side file."""
    if not ADVENTUREWORKS.is_dir():
        raise FileNotFoundError(
            f"{ADVENTUREWORKS} is missing; the tests need ../shared/data beside "
            "the repository, or CHANNELOPS_SHARED_DATA pointing at it"
        )
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("Resellers.csv", "FactResellerSales.csv"):
        shutil.copy(ADVENTUREWORKS / name, folder / name)
    shutil.copy(
        TEST_DATA / "adventureworks" / "reseller_contacts.csv",
        folder / "reseller_contacts.csv",
    )
    return folder


@pytest.fixture
def adventureworks_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_settings: Path
) -> Path:
    """Settings that read the AdventureWorks drop folder, settled in USD."""
    drop = adventureworks_drop(tmp_path / "inbox")
    monkeypatch.setenv("CHANNELOPS_DROP_DIR", str(drop))
    monkeypatch.setenv(
        "CHANNELOPS_CONFIG_DIR", str(TEST_DATA / "adventureworks" / "config")
    )
    monkeypatch.setenv("CHANNELOPS_CURRENCY", "USD")
    return drop


# The temporary API takes 20-36 s to start on 2 cores.
PREFECT_STARTUP_SECONDS = 120


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[None]:
    """A real, temporary Prefect API for the tests that run flows."""
    apply_prefect_defaults()
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=PREFECT_STARTUP_SECONDS):
        yield


POSTGRES_ADMIN = {
    "host": "127.0.0.1",
    "port": 5432,
    "user": "postgres",
    "dbname": "postgres",
}


@contextmanager
def throwaway_postgres_database(prefix: str) -> Iterator[str]:
    """A fresh PostgreSQL database on 127.0.0.1:5432, dropped afterwards."""
    import psycopg2

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(**POSTGRES_ADMIN)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"create database {name}")
        yield name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"drop database if exists {name} with (force)")
        admin.close()
