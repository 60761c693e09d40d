"""Tasks retry transient failures and fail at once on data errors."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Callable

import duckdb
import psycopg2
import pytest
import sqlalchemy
from prefect import Task, flow, task

from channelops.errors import ConfigError, DeliveryIncomplete, InputError
from channelops.publish import PublishConflict
from channelops.transform import TransformFailed
from flows.retries import TRANSIENT_RETRIES, is_transient, only_transient
from flows.stages import check_quality, transform
from tests.conftest import POSTGRES_ADMIN


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError("relay down"),
        TimeoutError("timed out"),
        smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
        smtplib.SMTPConnectError(421, "try again later"),
        DeliveryIncomplete("2 statement e-mail(s) failed"),
        psycopg2.OperationalError("could not connect to server"),
        duckdb.IOException('Could not set lock on file "warehouse.duckdb"'),
    ],
    ids=type,
)
def test_a_network_smtp_or_lock_failure_should_be_retried(error: Exception) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        InputError("drop folder missing"),
        ConfigError("programs/q.yml: tiers: not ascending"),
        TransformFailed("dbt test failed"),
        PublishConflict("published file differs"),
        FileNotFoundError("v1.json"),
        duckdb.IOException("No files found that match the pattern"),
        ValueError("period '2026Q5' is not a quarter"),
    ],
    ids=type,
)
def test_a_data_error_should_never_be_retried(error: Exception) -> None:
    assert not is_transient(error)


@pytest.mark.prefect
def test_a_task_should_retry_a_dropped_connection_but_not_a_bad_file() -> None:
    attempts: list[str] = []

    @task(retries=2, retry_delay_seconds=0, retry_condition_fn=only_transient)
    def flaky(kind: str) -> None:
        attempts.append(kind)
        if kind == "network" and attempts.count(kind) < 3:
            raise ConnectionResetError("relay dropped the connection")
        if kind == "data":
            raise InputError("sales.csv row 4: amount 'abc' is not a number")

    @flow
    def stages() -> None:
        flaky("network")
        flaky("data")

    with pytest.raises(InputError):
        stages()

    assert attempts == ["network", "network", "network", "data"]


def closed_port() -> int:
    """A port on 127.0.0.1 where no PostgreSQL listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def raised(action: Callable[[], object]) -> Exception:
    try:
        action()
    except Exception as error:
        return error
    raise AssertionError("expected an error, none was raised")


def connect_to_nothing() -> object:
    return psycopg2.connect(**{**POSTGRES_ADMIN, "port": closed_port()})


def sqlalchemy_to_nothing() -> object:
    url = f"postgresql+psycopg2://postgres@127.0.0.1:{closed_port()}/postgres"
    engine = sqlalchemy.create_engine(url)
    try:
        return engine.connect()
    finally:
        engine.dispose()


def in_postgres(statement: str) -> Callable[[], object]:
    """Run one statement on the test server; its error is the server's own."""

    def run() -> object:
        connection = psycopg2.connect(**POSTGRES_ADMIN)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement)
        finally:
            connection.close()
        return None

    return run


TOO_MANY_COLUMNS = "create temporary table wide ({})".format(
    ", ".join(f"c{n} integer" for n in range(1601))
)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "action",
    [
        connect_to_nothing,
        sqlalchemy_to_nothing,
        in_postgres("select pg_terminate_backend(pg_backend_pid())"),
    ],
    ids=["refused", "refused through SQLAlchemy", "dropped by the server"],
)
def test_a_postgres_connection_refused_or_dropped_should_be_retried(
    action: Callable[[], object],
) -> None:
    error = raised(action)

    assert is_transient(error), repr(error)


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("action", "kind"),
    [
        (in_postgres(TOO_MANY_COLUMNS), psycopg2.OperationalError),
        (in_postgres("select * from no_such_table"), psycopg2.ProgrammingError),
        (in_postgres("select 1 / 0"), psycopg2.DataError),
    ],
    ids=["too many columns", "undefined table", "division by zero"],
)
def test_a_postgres_error_about_the_statement_should_never_be_retried(
    action: Callable[[], object], kind: type[Exception]
) -> None:
    error = raised(action)

    # psycopg2 files "too many columns" under OperationalError too.
    assert isinstance(error, kind)
    assert not is_transient(error), repr(error)


@pytest.mark.parametrize("stage", [transform, check_quality], ids=lambda t: t.name)
def test_building_and_checking_should_retry_transient_failures_only(
    stage: Task[..., object],
) -> None:
    assert stage.retries == TRANSIENT_RETRIES
    assert stage.retry_condition_fn is only_transient
