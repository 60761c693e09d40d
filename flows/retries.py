"""Which task failures are worth another try: the transient ones only.

A dropped connection to the SMTP relay or to PostgreSQL, a timeout, or a
DuckDB file someone else has open may be gone a minute later; a bad input
file, a failed dbt test or a published file that differs from the ledger
will fail the same way every time, so retrying it only delays the alert.
The stage tasks pass :func:`only_transient` as ``retry_condition_fn``.
"""

from __future__ import annotations

import smtplib
from typing import Any

import duckdb
from prefect.client.schemas.objects import State, TaskRun

from channelops.errors import DeliveryIncomplete

# Two more tries a minute apart ride out a relay restart or a network blip.
TRANSIENT_RETRIES = 2
TRANSIENT_RETRY_DELAY_SECONDS = 60

_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    DeliveryIncomplete,
)
# DuckDB's words when another process has the file open for writing.
_DUCKDB_LOCKED = "Could not set lock on file"


def is_transient(error: BaseException) -> bool:
    """True for a failure that may pass by itself: network, SMTP, a held lock."""
    if isinstance(error, _TRANSIENT_TYPES):
        return True
    if isinstance(error, duckdb.IOException):
        return _DUCKDB_LOCKED in str(error)
    import psycopg2

    # OperationalError is psycopg2's class for a lost or refused connection.
    return isinstance(error, psycopg2.OperationalError)


def only_transient(task: Any, task_run: TaskRun, state: State[Any]) -> bool:
    """Prefect ``retry_condition_fn``: retry transient failures, never data errors."""
    error = state.data
    return isinstance(error, BaseException) and is_transient(error)
