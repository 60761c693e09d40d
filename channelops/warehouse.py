"""The warehouse connection: DuckDB for local runs, PostgreSQL in production.

A thin layer so the pull, publish and ledger code can write the same SQL to
either engine: ``?`` placeholders, Arrow batches for bulk inserts, and one
process-wide file lock so only one run writes a DuckDB file at a time.
"""

from __future__ import annotations

import csv
import fcntl
import io
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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
            self._duck = duckdb.connect(str(settings.warehouse_path))
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


# How long a run waits for another run to release the warehouse.
LOCK_WAIT_SECONDS = 600.0
LOCK_POLL_SECONDS = 0.5


@contextmanager
def warehouse_lock(
    settings: Settings, *, wait_seconds: float = LOCK_WAIT_SECONDS
) -> Iterator[None]:
    """Hold the run lock: one writing run per warehouse at a time.

    DuckDB allows one writing process per file; PostgreSQL runs take the same
    lock so two runs never publish the same period at once.
    """
    path: Path = settings.lock_path
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        deadline = time.monotonic() + wait_seconds
        announced = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not announced:
                    logger.info("Another channelops run holds %s; waiting", path)
                    announced = True
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(
                        f"another channelops run has held {path} for over "
                        f"{wait_seconds:.0f} s; wait for it to finish (see the "
                        "Prefect UI) and run again"
                    ) from None
                time.sleep(LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
