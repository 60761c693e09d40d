"""Which task failures are worth another try: the transient ones only.

A dropped connection to the SMTP relay or to PostgreSQL, a timeout, or a
DuckDB file someone else has open may be gone a minute later; a bad input
file, a failed dbt build or test, or a published file that differs from the
ledger will fail the same way every time, so retrying it only delays the
alert. The stage tasks pass :func:`only_transient` as ``retry_condition_fn``.

PostgreSQL errors are told apart by where they come from: one raised by the
client without a SQLSTATE (connection refused or dropped, a timeout) or one
whose SQLSTATE says the connection or the server's state is at fault (class
08, the server starting or shutting down, too many connections, a deadlock
or serialization failure, a lock not available) is transient; a PostgreSQL
error about the statement or the data (too many columns, disk full) is not,
though psycopg2 files some of those under ``OperationalError`` too. The same
holds when SQLAlchemy wraps the error (the gate and the ops stack use it).
dbt runs in a subprocess and reports any failure as ``TransformFailed``: it
is never retried.
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
# SQLSTATEs of a PostgreSQL server that may answer differently a minute
# later: starting up or shutting down, out of connections, a transaction
# that lost a race. Class 08 (connection exception) is transient as a whole.
_POSTGRES_TRANSIENT_STATES = frozenset(
    {"57P01", "57P02", "57P03", "53300", "40001", "40P01", "55P03"}
)


def is_transient(error: BaseException) -> bool:
    """True for a failure that may pass by itself: network, SMTP, a held lock."""
    if isinstance(error, _TRANSIENT_TYPES):
        return True
    if isinstance(error, duckdb.IOException):
        return _DUCKDB_LOCKED in str(error)
    return _is_transient_postgres(error)


def _is_transient_postgres(error: BaseException) -> bool:
    # Imported here: most runs are local and never load the PostgreSQL driver.
    import psycopg2
    from sqlalchemy.exc import DBAPIError

    if isinstance(error, DBAPIError):
        return error.orig is not None and _is_transient_postgres(error.orig)
    if not isinstance(error, psycopg2.OperationalError):
        return False
    state = error.pgcode
    return (
        state is None or state.startswith("08") or state in _POSTGRES_TRANSIENT_STATES
    )


def only_transient(task: Any, task_run: TaskRun, state: State[Any]) -> bool:
    """Prefect ``retry_condition_fn``: retry transient failures, never data errors."""
    error = state.data
    return isinstance(error, BaseException) and is_transient(error)
