"""Tasks retry transient failures and fail at once on data errors."""

from __future__ import annotations

import smtplib

import duckdb
import psycopg2
import pytest
from prefect import flow, task

from channelops.errors import ConfigError, DeliveryIncomplete, InputError
from channelops.publish import PublishConflict
from channelops.transform import TransformFailed
from flows.retries import is_transient, only_transient


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
