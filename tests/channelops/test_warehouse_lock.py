"""The run lock: one writing run at a time, a waiting run names the holder.

Each holder runs in a thread of its own with its own lock handle, which the
OS treats like another process: ``flock`` locks belong to an open file, and
PostgreSQL advisory locks to a session.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from channelops.errors import WarehouseBusy
from channelops.settings import Settings
from channelops.warehouse import warehouse_lock
from tests.conftest import throwaway_postgres_database

FIRST = "quarterly_settlement 2026Q3 run first"
SECOND = "quarterly_settlement 2026Q3 run second"
# Generous, so a slow machine never makes the waiting run give up early.
PATIENT_SECONDS = 120.0
# Short, for the run that is meant to give up.
IMPATIENT_SECONDS = 0.3


@pytest.fixture(params=["duckdb", "postgres"])
def settings(request: pytest.FixtureRequest) -> Iterator[Settings]:
    """Local settings (file lock), or prod on a throwaway PostgreSQL database."""
    if request.param == "duckdb":
        yield Settings(env="local")
        return
    with throwaway_postgres_database("lock_test") as database:
        yield Settings(env="prod", pg_database=database)


@contextmanager
def held_by_another_run(settings: Settings, release: threading.Event) -> Iterator[None]:
    """The lock taken by FIRST in another thread until ``release`` is set."""
    taken = threading.Event()
    errors: list[BaseException] = []

    def hold() -> None:
        try:
            with warehouse_lock(settings, holder=FIRST):
                taken.set()
                release.wait(PATIENT_SECONDS)
        except BaseException as error:
            errors.append(error)
            taken.set()

    thread = threading.Thread(target=hold)
    thread.start()
    taken.wait(PATIENT_SECONDS)
    try:
        yield
    finally:
        release.set()
        thread.join(PATIENT_SECONDS)
    assert errors == []


class _ReleaseWhenWaiting(logging.Handler):
    """Lets the first run finish as soon as the second says it is waiting."""

    def __init__(self, release: threading.Event) -> None:
        super().__init__()
        self.first_may_finish = release
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        if record.getMessage().startswith("Warehouse busy"):
            self.first_may_finish.set()


@pytest.mark.postgres
def test_a_second_run_should_wait_naming_the_holder_then_go_ahead(
    settings: Settings,
) -> None:
    release = threading.Event()
    watcher = _ReleaseWhenWaiting(release)
    logger = logging.getLogger("channelops.warehouse")
    logger.addHandler(watcher)
    logger.setLevel(logging.INFO)
    ran = False
    try:
        with (
            held_by_another_run(settings, release),
            warehouse_lock(settings, holder=SECOND, wait_seconds=PATIENT_SECONDS),
        ):
            ran = True
    finally:
        logger.removeHandler(watcher)

    assert ran
    busy = [m for m in watcher.messages if m.startswith("Warehouse busy")]
    assert len(busy) == 1
    assert FIRST in busy[0] and SECOND in busy[0]
    assert any(m.startswith("Warehouse free after") for m in watcher.messages)


@pytest.mark.postgres
def test_a_run_that_waited_too_long_should_give_up_saying_who_holds_it(
    settings: Settings,
) -> None:
    release = threading.Event()

    with (
        held_by_another_run(settings, release),
        pytest.raises(WarehouseBusy) as gave_up,
        warehouse_lock(settings, holder=SECOND, wait_seconds=IMPATIENT_SECONDS),
    ):
        pytest.fail("the second run must not get the lock")

    message = str(gave_up.value)
    assert FIRST in message
    assert "changed nothing" in message
    assert "trigger this one again" in message


@pytest.mark.postgres
def test_the_lock_should_be_free_again_after_a_run_failed(settings: Settings) -> None:
    with pytest.raises(RuntimeError), warehouse_lock(settings, holder=FIRST):
        raise RuntimeError("a stage failed")

    with warehouse_lock(settings, holder=SECOND, wait_seconds=IMPATIENT_SECONDS):
        pass
