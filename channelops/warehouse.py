"""The warehouse connection: DuckDB for local runs, PostgreSQL in production.

A thin layer so the pull, publish and ledger code can write the same SQL to
either engine: ``?`` placeholders, Arrow batches for bulk inserts, and one
run lock so only one run writes the warehouse at a time.
"""

from __future__ import annotations

import csv
import fcntl
import io
import logging
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

import duckdb
import pyarrow as pa

from channelops.contract import DATASETS
from channelops.errors import WarehouseBusy
from channelops.settings import Settings

logger = logging.getLogger(__name__)

Row = tuple[Any, ...]

# Lineage columns every raw table carries next to the contract fields.
LINEAGE_COLUMNS = (
    ("_source", "varchar"),
    ("_file_name", "varchar"),
    ("_row_number", "integer"),
    ("_batch_id", "varchar"),
)

OPS_DDL = (
    "create schema if not exists raw",
    "create schema if not exists config",
    "create schema if not exists ops",
    """
    create table if not exists ops.load_files (
        batch_id varchar not null,
        source varchar not null,
        dataset varchar not null,
        file_name varchar not null,
        file_sha256 varchar not null,
        rows_read integer not null,
        rows_loaded integer not null,
        rows_quarantined integer not null,
        loaded_at timestamp not null
    )
    """,
    """
    create table if not exists ops.quarantine (
        batch_id varchar not null,
        source varchar not null,
        dataset varchar not null,
        file_name varchar not null,
        row_number integer not null,
        field varchar not null,
        value varchar,
        reason varchar not null
    )
    """,
    # The tier each partner held in each period whose scorecard or statement
    # was published, appended once and never changed
    # (channelops.tier_records); the tier walk resumes from it.
    """
    create table if not exists ops.partner_tier_records (
        partner_id varchar not null,
        grain varchar not null,
        period varchar not null,
        period_index integer not null,
        tier varchar not null,
        score decimal(7,2),
        score_tier varchar,
        up_streak integer not null,
        pending_promotion_tier varchar,
        down_streak integer not null,
        pending_demotion_tier varchar,
        tier_rules_version varchar not null,
        recorded_for varchar not null,
        recorded_at timestamp not null
    )
    """,
    # The months a changed file's earlier rows fell in, per partner, written
    # before those rows are replaced, so incremental models can recompute
    # what the file no longer says.
    """
    create table if not exists ops.replaced_rows (
        batch_id varchar not null,
        dataset varchar not null,
        file_name varchar not null,
        partner_id varchar not null,
        event_month date not null,
        replaced_at timestamp not null
    )
    """,
)


def _raw_columns(dataset_name: str) -> list[str]:
    dataset = DATASETS[dataset_name]
    columns = [f"{f.name} {f.sql_type}" for f in dataset.fields]
    return columns + [f"{name} {sql_type}" for name, sql_type in LINEAGE_COLUMNS]


def raw_table_ddl(dataset_name: str) -> str:
    body = ",\n    ".join(_raw_columns(dataset_name))
    return f"create table if not exists raw.{dataset_name} (\n    {body}\n)"


def raw_column_migrations(dataset_name: str) -> list[str]:
    """Statements that add contract fields newer than an existing raw table."""
    return [
        f"alter table raw.{dataset_name} add column if not exists {column}"
        for column in _raw_columns(dataset_name)
    ]


class Warehouse:
    """One open connection to the warehouse, with engine differences hidden."""

    def __init__(self, settings: Settings) -> None:
        self.kind = settings.warehouse_kind
        self._duck: duckdb.DuckDBPyConnection | None = None
        self._pg: Any = None
        if self.kind == "duckdb":
            settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
            self._duck = duckdb.connect(
                str(settings.warehouse_path),
                config={"memory_limit": settings.duckdb_memory_limit},
            )
        else:
            import psycopg2

            self._pg = psycopg2.connect(
                host=settings.pg_host,
                port=settings.pg_port,
                user=settings.pg_user,
                password=settings.pg_password.get_secret_value() or None,
                dbname=settings.pg_database,
            )
            self._pg.autocommit = True

    def close(self) -> None:
        if self._duck is not None:
            self._duck.close()
            self._duck = None
        if self._pg is not None:
            self._pg.close()
            self._pg = None

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        if self._duck is not None:
            self._duck.execute(sql, list(params))
        else:
            with self._pg.cursor() as cursor:
                cursor.execute(_pg_placeholders(sql), tuple(params))

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        if self._duck is not None:
            return self._duck.execute(sql, list(params)).fetchall()
        with self._pg.cursor() as cursor:
            cursor.execute(_pg_placeholders(sql), tuple(params))
            return list(cursor.fetchall())

    def query_dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        if self._duck is not None:
            result = self._duck.execute(sql, list(params))
            names = [d[0] for d in result.description]
            return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
        with self._pg.cursor() as cursor:
            cursor.execute(_pg_placeholders(sql), tuple(params))
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All statements inside commit together or not at all."""
        self.execute("begin")
        try:
            yield
        except BaseException:
            self.execute("rollback")
            raise
        self.execute("commit")

    def insert_arrow(self, table: str, batch: pa.Table) -> None:
        """Append an Arrow table whose column names match the target table."""
        if batch.num_rows == 0:
            return
        columns = ", ".join(batch.column_names)
        if self._duck is not None:
            self._duck.register("_channelops_batch", batch)
            try:
                self._duck.execute(
                    f"insert into {table} ({columns}) "
                    f"select {columns} from _channelops_batch"
                )
            finally:
                self._duck.unregister("_channelops_batch")
            return
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in zip(
            *(batch.column(c).to_pylist() for c in batch.column_names), strict=True
        ):
            writer.writerow(["\\N" if v is None else v for v in row])
        buffer.seek(0)
        with self._pg.cursor() as cursor:
            cursor.copy_expert(
                f"copy {table} ({columns}) from stdin with (format csv, null '\\N')",
                buffer,
            )

    def insert_parquet(self, table: str, path: Path, batch_rows: int) -> None:
        """Append a Parquet file's rows, matching columns by name.

        DuckDB reads the file itself; PostgreSQL gets it ``batch_rows`` rows
        at a time, so the file is never in memory whole.
        """
        if self._duck is not None:
            self._duck.execute(
                f"insert into {table} by name select * from read_parquet(?)",
                [str(path)],
            )
            return
        import pyarrow.parquet as pq

        with pq.ParquetFile(path) as rows:
            for batch in rows.iter_batches(batch_rows):
                self.insert_arrow(table, pa.Table.from_batches([batch]))

    def ensure_schema(self) -> None:
        """Create the raw, config and ops tables that do not exist yet."""
        for statement in OPS_DDL:
            self.execute(statement)
        for dataset_name in DATASETS:
            self.execute(raw_table_ddl(dataset_name))
            for statement in raw_column_migrations(dataset_name):
                self.execute(statement)


def _pg_placeholders(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


# How often a waiting run looks again whether the warehouse is free.
LOCK_POLL_SECONDS = 0.5
# The PostgreSQL advisory-lock key pair every channelops run takes: a
# namespace that sets channelops apart from other users of advisory locks
# ("CHOP" in ASCII) and the warehouse within it.
PG_LOCK_NAMESPACE = 0x43484F50
PG_LOCK_WAREHOUSE = 1
# PostgreSQL keeps at most this many bytes of a connection's application name.
PG_APPLICATION_NAME_BYTES = 63


class _RunLock(Protocol):
    def try_acquire(self) -> bool: ...

    def current_holder(self) -> str: ...

    def release(self) -> None: ...


@contextmanager
def warehouse_lock(
    settings: Settings,
    *,
    holder: str = "a channelops run",
    wait_seconds: float | None = None,
) -> Iterator[None]:
    """Hold the run lock: one writing run per warehouse at a time.

    DuckDB allows one writing process per file, so local runs take an OS
    file lock beside it (``warehouse.lock``), which also covers CLI runs and
    a crash (the OS drops it with the process). On PostgreSQL the lock is a
    session advisory lock in the warehouse itself, so runs on different
    machines exclude each other too. A run that finds the warehouse taken
    says who holds it, waits up to ``wait_seconds`` (default
    ``CHANNELOPS_LOCK_WAIT_SECONDS``) and then gives up with
    :class:`WarehouseBusy`, having changed nothing.
    """
    wait = settings.lock_wait_seconds if wait_seconds is None else wait_seconds
    lock: _RunLock = (
        _AdvisoryLock(settings, holder)
        if settings.warehouse_kind == "postgres"
        else _FileLock(settings.lock_path, holder)
    )
    try:
        _acquire(lock, holder, wait)
        yield
    finally:
        lock.release()


def _acquire(lock: _RunLock, holder: str, wait_seconds: float) -> None:
    if lock.try_acquire():
        return
    started = time.monotonic()
    logger.info(
        "Warehouse busy: %s holds it; %s waits up to %.0f s",
        lock.current_holder(),
        holder,
        wait_seconds,
    )
    while time.monotonic() - started < wait_seconds:
        time.sleep(LOCK_POLL_SECONDS)
        if lock.try_acquire():
            logger.info(
                "Warehouse free after %.0f s; %s goes ahead",
                time.monotonic() - started,
                holder,
            )
            return
    raise WarehouseBusy(
        f"the warehouse is still held by {lock.current_holder()} after "
        f"{holder} waited {wait_seconds:.0f} s, so this run changed nothing. "
        "Let that run finish (see the Prefect UI), then trigger this one "
        "again; a longer wait is CHANNELOPS_LOCK_WAIT_SECONDS"
    )


def _holder_note(holder: str) -> str:
    since = datetime.now(UTC).isoformat(timespec="seconds")
    return f"{holder} (pid {os.getpid()}, since {since})"


class _FileLock:
    """An exclusive ``flock`` on a file; the file names the holder."""

    def __init__(self, path: Path, holder: str) -> None:
        self._path = path
        self._holder = holder
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle: IO[str] | None = path.open("a+", encoding="utf-8")

    def try_acquire(self) -> bool:
        assert self._handle is not None
        try:
            fcntl.flock(self._handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write(_holder_note(self._holder) + "\n")
        self._handle.flush()
        return True

    def current_holder(self) -> str:
        text = self._path.read_text(encoding="utf-8").strip()
        return text or f"another channelops run ({self._path})"

    def release(self) -> None:
        if self._handle is not None:
            # Closing the file drops the lock if this handle held it.
            self._handle.close()
            self._handle = None


class _AdvisoryLock:
    """A PostgreSQL session advisory lock on a connection of its own.

    The connection's application name says who holds the lock, so that a
    waiting run can name the holder from ``pg_stat_activity``.
    """

    def __init__(self, settings: Settings, holder: str) -> None:
        import psycopg2

        name = _holder_note(holder).encode("utf-8")[:PG_APPLICATION_NAME_BYTES]
        self._connection: Any = psycopg2.connect(
            host=settings.pg_host,
            port=settings.pg_port,
            user=settings.pg_user,
            password=settings.pg_password.get_secret_value() or None,
            dbname=settings.pg_database,
            application_name=name.decode("utf-8", errors="ignore"),
        )
        self._connection.autocommit = True

    def _scalar(self, sql: str) -> Any:
        with self._connection.cursor() as cursor:
            cursor.execute(sql, (PG_LOCK_NAMESPACE, PG_LOCK_WAREHOUSE))
            row = cursor.fetchone()
        return None if row is None else row[0]

    def try_acquire(self) -> bool:
        return bool(self._scalar("select pg_try_advisory_lock(%s, %s)"))

    def current_holder(self) -> str:
        holder = self._scalar(
            "select a.application_name from pg_locks as l "
            "join pg_stat_activity as a on a.pid = l.pid "
            "where l.locktype = 'advisory' and l.granted and l.objsubid = 2 "
            "and l.classid = %s and l.objid = %s"
        )
        return str(holder) if holder else "another channelops run"

    def release(self) -> None:
        if self._connection is not None:
            # Closing the session releases every advisory lock it held.
            self._connection.close()
            self._connection = None
