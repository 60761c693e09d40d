"""The pull stage: read the drop folder through the source mappings into ``raw``.

Every row read is either loaded into ``raw.<dataset>`` or quarantined in
``ops.quarantine`` with file, row, field and reason; ``ops.load_files``
records the counts of each file so that read = loaded + quarantined can be
checked. A file whose bytes were already loaded is skipped; a changed file
replaces the rows its earlier version loaded, so loading twice never doubles.

A simple CSV file is typed in bulk by DuckDB (``channelops.bulk``) and only
its rows SQL cannot prove clean go through the row parser; any other file
is typed row by row. Both give the same rows, row numbers and rejections.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq

from channelops.bulk import BulkRows, NotSimple, inspect_csv
from channelops.contract import DATASETS, LOAD_ORDER, SCALES, Dataset, FieldType
from channelops.errors import InputError
from channelops.mapping import DatasetMapping, SourceMapping, load_mappings
from channelops.parsing import FieldProblem, ParseContext, field_reader
from channelops.readers import CSV_SUFFIXES, SourceRow, open_rows
from channelops.settings import Settings
from channelops.warehouse import Warehouse

logger = logging.getLogger(__name__)

# Rows quarantined for a reference or duplicate problem are checked in SQL in
# chunks of this many row numbers per statement.
DELETE_CHUNK = 500
# Typed rows are turned into Arrow columns this many at a time, so a big
# file never sits in memory as Python objects all at once.
ARROW_CHUNK_ROWS = 100_000
# Files are parsed in worker processes (at most this many) when the files to
# type row by row are at least this big; below it, starting the workers
# costs more than it saves. Bulk typing already keeps every core busy.
MAX_PARSE_WORKERS = 4
PARALLEL_PARSE_BYTES = 32 << 20
# The date that places a row of each dataset in a period, for recording the
# months a changed file's replaced rows fell in (ops.replaced_rows).
EVENT_DATES = {
    "order_lines": "order_date",
    "payments": "paid_date",
    "feedback": "created_at",
    "activities": "start_date",
}


@dataclass(frozen=True)
class Rejection:
    row_number: int
    field: str
    value: str | None
    reason: str


@dataclass
class FileLoad:
    source: str
    dataset: str
    file_name: str
    sha256: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    skipped: bool = False
    typed_in_bulk: bool = False
    # How the file was typed, in the operator's words (logged).
    how: str = ""
    rejections: list[Rejection] = field(default_factory=list)


@dataclass(frozen=True)
class PullReport:
    batch_id: str
    files: tuple[FileLoad, ...]

    @property
    def loaded_files(self) -> tuple[FileLoad, ...]:
        return tuple(f for f in self.files if not f.skipped)

    def total(self, attribute: str) -> int:
        return sum(int(getattr(f, attribute)) for f in self.loaded_files)

    def summary_lines(self) -> list[str]:
        lines = []
        for f in self.files:
            if f.skipped:
                lines.append(f"{f.dataset}: {f.file_name} unchanged, skipped")
            else:
                lines.append(
                    f"{f.dataset}: {f.file_name} read {f.rows_read}, "
                    f"loaded {f.rows_loaded}, quarantined {f.rows_quarantined}"
                )
        return lines


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def matching_files(folder: Path, patterns: Iterable[str]) -> list[Path]:
    """Files in the drop folder matching any pattern, each once, sorted."""
    found = {p for pattern in patterns for p in folder.glob(pattern) if p.is_file()}
    return sorted(found)


@dataclass(frozen=True)
class _FileJob:
    """One file to read: everything a worker process needs to parse it."""

    source: str
    timezone: str
    currency: str
    dataset: str
    dataset_mapping: DatasetMapping
    path: Path
    batch_id: str
    # A folder for this file's temporary files, and whether to try bulk typing.
    scratch: Path
    bulk: bool


@dataclass(frozen=True)
class _ParsedFile:
    encoding: str
    rows_read: int
    rejections: list[Rejection]
    # The rows to load, as Parquet in the job's scratch folder.
    rows: Path
    typed_in_bulk: bool
    # How the file was typed, in the operator's words.
    how: str


def pull(settings: Settings, warehouse: Warehouse, *, batch_id: str) -> PullReport:
    """Load every new or changed file of every source in the drop folder."""
    folder = settings.inbox_dir
    if not folder.is_dir():
        raise InputError(
            f"drop folder {folder} does not exist; create it and put the "
            "export files there, or set CHANNELOPS_DROP_DIR"
        )
    mappings = load_mappings(settings.config_dir)
    warehouse.ensure_schema()
    settings.scratch_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pull-", dir=settings.scratch_dir) as work:
        loads = _load_all(settings, warehouse, mappings, Path(work), batch_id)
    report = PullReport(batch_id, tuple(loads))
    logger.info(
        "Pulled batch %s: %d file(s) loaded, %d unchanged; rows read %d, "
        "loaded %d, quarantined %d",
        batch_id,
        len(report.loaded_files),
        len(report.files) - len(report.loaded_files),
        report.total("rows_read"),
        report.total("rows_loaded"),
        report.total("rows_quarantined"),
    )
    return report


def _load_all(
    settings: Settings,
    warehouse: Warehouse,
    mappings: list[SourceMapping],
    scratch: Path,
    batch_id: str,
) -> list[FileLoad]:
    """Parse and load every new or changed file; the loads of all files."""
    folder = settings.inbox_dir
    loads: list[FileLoad] = []
    jobs: list[_FileJob] = []
    for dataset_name in LOAD_ORDER:
        for mapping in mappings:
            dataset_mapping = mapping.datasets.get(dataset_name)
            if dataset_mapping is None:
                continue
            for path in matching_files(folder, dataset_mapping.files):
                load = FileLoad(mapping.name, dataset_name, path.name, sha256_of(path))
                loads.append(load)
                if _already_loaded(warehouse, mapping.name, path.name, load.sha256):
                    load.skipped = True
                    logger.info(
                        "%s %s: %s unchanged since its last load, skipped",
                        mapping.name,
                        dataset_name,
                        path.name,
                    )
                    continue
                jobs.append(
                    _FileJob(
                        mapping.name,
                        mapping.timezone,
                        settings.currency,
                        dataset_name,
                        dataset_mapping,
                        path,
                        batch_id,
                        scratch / f"file-{len(jobs)}",
                        settings.bulk_csv,
                    )
                )
    pending = iter(load for load in loads if not load.skipped)
    for job, parsed in zip(jobs, _parsed(jobs), strict=True):
        _load_file(warehouse, next(pending), job, parsed)
    return loads


def _parsed(jobs: list[_FileJob]) -> Iterator[_ParsedFile]:
    """Each job's file parsed, in order; big row-by-row loads in worker processes.

    Typing row by row is pure Python and holds one core; files are
    independent, so with more than one core and enough such bytes to repay
    starting the workers they are parsed side by side while this process
    writes the warehouse. CSV files are expected to be typed in bulk, which
    DuckDB spreads over the cores itself; a CSV file that turns out not to be
    simple is then typed row by row in this process.
    """
    workers = min(len(jobs), os.cpu_count() or 1, MAX_PARSE_WORKERS)
    size = sum(
        job.path.stat().st_size
        for job in jobs
        if not (job.bulk and job.path.suffix.lower() in CSV_SUFFIXES)
    )
    if workers < 2 or size < PARALLEL_PARSE_BYTES:
        yield from map(_parse_file, jobs)
        return
    # Spawned, not forked: this process holds an open DuckDB connection.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        # At most one parsed file waits per worker, which bounds memory.
        waiting: deque[Future[_ParsedFile]] = deque()
        for job in jobs:
            waiting.append(pool.submit(_parse_file, job))
            if len(waiting) > workers:
                yield waiting.popleft().result()
        while waiting:
            yield waiting.popleft().result()


def _already_loaded(
    warehouse: Warehouse, source: str, file_name: str, sha256: str
) -> bool:
    rows = warehouse.query(
        "select file_sha256 from ops.load_files where source = ? and file_name = ? "
        "order by loaded_at desc, batch_id desc limit 1",
        (source, file_name),
    )
    return bool(rows) and rows[0][0] == sha256


def _parse_file(job: _FileJob) -> _ParsedFile:
    """Type every row of one file; rows with problems become rejections."""
    dataset, dataset_mapping = DATASETS[job.dataset], job.dataset_mapping
    context = ParseContext(dataset_mapping, ZoneInfo(job.timezone), job.currency)
    parse_row = _row_parser(dataset, dataset_mapping, context)
    job.scratch.mkdir(parents=True, exist_ok=True)
    try:
        return _parse_in_bulk(job, dataset, context, parse_row)
    except NotSimple as reason:
        return _parse_by_row(job, dataset, parse_row, f"typed row by row: {reason}")


def _parse_in_bulk(
    job: _FileJob, dataset: Dataset, context: ParseContext, parse_row: RowParser
) -> _ParsedFile:
    """Type a simple CSV file in DuckDB; its unclean rows through ``parse_row``."""
    if not job.bulk:
        raise NotSimple("bulk typing is turned off (CHANNELOPS_BULK_CSV)")
    if job.path.suffix.lower() not in CSV_SUFFIXES:
        raise NotSimple("it is not a CSV file")
    work = job.scratch / "bulk"
    work.mkdir()
    try:
        simple = inspect_csv(job.path, context.mapping, work)
        _require_columns(
            job.path, job.source, dataset.name, context.mapping, simple.header
        )
        with BulkRows(simple, dataset, context, work) as rows:
            rows.load()
            unclean = rows.type_rows()
            rejections: list[Rejection] = []
            typed_rows: list[dict[str, Any]] = []
            for source_row in rows.unclean_rows():
                values, problems = parse_row(source_row)
                rejections.extend(problems)
                if not problems:
                    typed_rows.append(values)
            rows.replace_unclean(typed_rows)
            rejections += [
                _duplicate_key(dataset, row_number, key, first)
                for row_number, key, first in rows.duplicate_keys()
            ]
            # In row order, each row's own problems in field order, as row by row.
            rejections.sort(key=attrgetter("row_number"))
            rows.write(job.scratch / "rows.parquet", _lineage(job))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    how = f"typed in bulk, {unclean} row(s) checked by the row parser"
    return _ParsedFile(
        simple.encoding,
        simple.records,
        rejections,
        job.scratch / "rows.parquet",
        True,
        how,
    )


def _parse_by_row(
    job: _FileJob, dataset: Dataset, parse_row: RowParser, how: str
) -> _ParsedFile:
    """Type every row of one file through ``parse_row``, one row at a time."""
    opened = open_rows(job.path, job.dataset_mapping)
    _require_columns(
        job.path, job.source, dataset.name, job.dataset_mapping, opened.header
    )
    rows_read = 0
    rejections: list[Rejection] = []
    typed_rows: list[dict[str, Any]] = []
    first_row_of_key: dict[tuple[Any, ...], int] = {}
    path = job.scratch / "rows.parquet"
    with pq.ParquetWriter(path, _arrow_batch(dataset, [], job).schema) as writer:
        for source_row in opened.rows:
            rows_read += 1
            values, problems = parse_row(source_row)
            if not problems:
                key = tuple(values[k] for k in dataset.key)
                first = first_row_of_key.setdefault(key, source_row.row_number)
                if first != source_row.row_number:
                    problems.append(
                        _duplicate_key(dataset, source_row.row_number, key, first)
                    )
            if problems:
                rejections.extend(problems)
                continue
            typed_rows.append(values)
            if len(typed_rows) == ARROW_CHUNK_ROWS:
                writer.write_table(_arrow_batch(dataset, typed_rows, job))
                typed_rows = []
        writer.write_table(_arrow_batch(dataset, typed_rows, job))
    return _ParsedFile(opened.encoding, rows_read, rejections, path, False, how)


def _duplicate_key(
    dataset: Dataset, row_number: int, key: tuple[Any, ...], first: int
) -> Rejection:
    return Rejection(
        row_number,
        "+".join(dataset.key),
        "|".join(str(k) for k in key),
        f"duplicate key, first seen in this file at row {first}",
    )


def _load_file(
    warehouse: Warehouse, load: FileLoad, job: _FileJob, parsed: _ParsedFile
) -> None:
    """Replace the file's rows in ``raw`` and record what was loaded."""
    dataset = DATASETS[job.dataset]
    load.rows_read = parsed.rows_read
    load.typed_in_bulk, load.how = parsed.typed_in_bulk, parsed.how
    load.rejections.extend(parsed.rejections)
    with warehouse.transaction():
        _note_replaced_rows(warehouse, dataset, job.source, job.path.name, job.batch_id)
        warehouse.execute(
            f"delete from raw.{dataset.name} where _source = ? and _file_name = ?",
            (job.source, job.path.name),
        )
        warehouse.insert_parquet(f"raw.{dataset.name}", parsed.rows, ARROW_CHUNK_ROWS)
        load.rejections.extend(
            _cross_file_problems(warehouse, dataset, job.source, job.path.name)
        )
        load.rows_quarantined = len({r.row_number for r in load.rejections})
        load.rows_loaded = load.rows_read - load.rows_quarantined
        _record(warehouse, load, job.batch_id)
    shutil.rmtree(job.scratch, ignore_errors=True)
    logger.info(
        "Loaded %s %s from %s (%s, %s): read %d, loaded %d, quarantined %d",
        job.source,
        dataset.name,
        job.path.name,
        parsed.encoding,
        parsed.how,
        load.rows_read,
        load.rows_loaded,
        load.rows_quarantined,
    )


def _note_replaced_rows(
    warehouse: Warehouse, dataset: Dataset, source: str, file_name: str, batch_id: str
) -> None:
    """Record the partner-months of the rows an earlier version of the file loaded."""
    event = EVENT_DATES.get(dataset.name)
    if event is None:
        return
    warehouse.execute(
        "insert into ops.replaced_rows "
        "select distinct cast(? as varchar), cast(? as varchar), "
        "cast(? as varchar), partner_id, "
        f"cast(date_trunc('month', {event}) as date), cast(? as timestamp) "
        f"from raw.{dataset.name} where _source = ? and _file_name = ?",
        (
            batch_id,
            dataset.name,
            file_name,
            datetime.now(UTC).replace(tzinfo=None),
            source,
            file_name,
        ),
    )


def _require_columns(
    path: Path,
    source: str,
    dataset: str,
    dataset_mapping: DatasetMapping,
    header: list[str],
) -> None:
    used = {c for s in dataset_mapping.fields.values() for c in s.columns_used()}
    missing = sorted(used - set(header))
    if missing:
        raise InputError(
            f"{path.name}: column(s) {missing} that source mapping {source!r} "
            f"reads for {dataset} are not in the header {header}; fix the "
            "export's header or the mapping"
        )


RowParser = Callable[[SourceRow], tuple[dict[str, Any], list[Rejection]]]


def _row_parser(
    dataset: Dataset, dataset_mapping: DatasetMapping, context: ParseContext
) -> RowParser:
    """A function that types one source row: its values, or why not."""
    readers = [
        (
            contract_field.name,
            field_reader(contract_field, source, context)
            if (source := dataset_mapping.fields.get(contract_field.name))
            else None,
        )
        for contract_field in dataset.fields
    ]

    def parse(source_row: SourceRow) -> tuple[dict[str, Any], list[Rejection]]:
        values: dict[str, Any] = {"_row_number": source_row.row_number}
        problems: list[Rejection] = []
        if source_row.problem is not None:
            problems.append(
                Rejection(source_row.row_number, "(row)", None, source_row.problem)
            )
            return values, problems
        cells, row_number = source_row.values, source_row.row_number
        for name, read in readers:
            if read is None:
                values[name] = None
                continue
            try:
                values[name] = read(cells)
            except FieldProblem as problem:
                problems.append(
                    Rejection(row_number, name, problem.value, problem.reason)
                )
        return values, problems

    return parse


ARROW_TYPES: dict[FieldType, pa.DataType] = {
    FieldType.DATE: pa.date32(),
    FieldType.TIMESTAMP: pa.timestamp("us"),
    FieldType.BOOLEAN: pa.bool_(),
}


def _arrow_type(field_type: FieldType) -> pa.DataType:
    if field_type in SCALES:
        return pa.decimal128(18, SCALES[field_type])
    return ARROW_TYPES.get(field_type, pa.string())


def _arrow_batch(
    dataset: Dataset, rows: list[dict[str, Any]], job: _FileJob
) -> pa.Table:
    count = len(rows)
    arrays = {
        f.name: pa.array([r[f.name] for r in rows], type=_arrow_type(f.type))
        for f in dataset.fields
    }
    for name, value in _lineage(job).items():
        arrays[name] = pa.array([value] * count, type=pa.string())
    arrays["_row_number"] = pa.array([r["_row_number"] for r in rows], type=pa.int32())
    return pa.table(arrays)


def _lineage(job: _FileJob) -> dict[str, str]:
    """The lineage columns every row of the file carries, but its row number."""
    return {
        "_source": job.source,
        "_file_name": job.path.name,
        "_batch_id": job.batch_id,
    }


def _cross_file_problems(
    warehouse: Warehouse, dataset: Dataset, source: str, file_name: str
) -> list[Rejection]:
    """Rows of this file whose key another file loaded, or whose partner is unknown.

    Such rows are taken back out of ``raw`` and returned as rejections.
    """
    table = f"raw.{dataset.name}"
    key_match = " and ".join(f"other.{k} = new.{k}" for k in dataset.key)
    key_text = " || '|' || ".join(f"cast(new.{k} as varchar)" for k in dataset.key)
    problems = [
        Rejection(
            row_number,
            "+".join(dataset.key),
            key,
            f"duplicate key: already loaded from {other_source}/{other_file} "
            f"row {other_row}; remove it from one of the files",
        )
        for row_number, key, other_source, other_file, other_row in warehouse.query(
            f"select new._row_number, {key_text}, other._source, "
            f"other._file_name, other._row_number "
            f"from {table} as new join {table} as other on {key_match} "
            "where new._source = ? and new._file_name = ? "
            "and not (other._source = ? and other._file_name = ?) "
            "order by new._row_number",
            (source, file_name, source, file_name),
        )
    ]
    if "partner_id" in dataset.field_names and dataset.name != "partners":
        problems += [
            Rejection(
                row_number,
                "partner_id",
                partner_id,
                "unknown partner: not in the partner master data; add the "
                "partner to the partners file or correct the code",
            )
            for row_number, partner_id in warehouse.query(
                f"select new._row_number, new.partner_id from {table} as new "
                "where new._source = ? and new._file_name = ? and not exists ("
                "select 1 from raw.partners as p "
                "where p.partner_id = new.partner_id) order by new._row_number",
                (source, file_name),
            )
        ]
    rows = sorted({p.row_number for p in problems})
    for start in range(0, len(rows), DELETE_CHUNK):
        chunk = rows[start : start + DELETE_CHUNK]
        marks = ", ".join("?" for _ in chunk)
        warehouse.execute(
            f"delete from {table} where _source = ? and _file_name = ? "
            f"and _row_number in ({marks})",
            (source, file_name, *chunk),
        )
    return problems


def _record(warehouse: Warehouse, load: FileLoad, batch_id: str) -> None:
    warehouse.execute(
        "delete from ops.quarantine where source = ? and file_name = ?",
        (load.source, load.file_name),
    )
    rejections = load.rejections
    if rejections:
        # Only then: building an Arrow table costs pyarrow's pandas import.
        warehouse.insert_arrow(
            "ops.quarantine",
            pa.table(
                {
                    "batch_id": [batch_id] * len(rejections),
                    "source": [load.source] * len(rejections),
                    "dataset": [load.dataset] * len(rejections),
                    "file_name": [load.file_name] * len(rejections),
                    "row_number": pa.array(
                        [r.row_number for r in rejections], type=pa.int32()
                    ),
                    "field": [r.field for r in rejections],
                    "value": pa.array([r.value for r in rejections], type=pa.string()),
                    "reason": [r.reason for r in rejections],
                }
            ),
        )
    warehouse.execute(
        "insert into ops.load_files values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            batch_id,
            load.source,
            load.dataset,
            load.file_name,
            load.sha256,
            load.rows_read,
            load.rows_loaded,
            load.rows_quarantined,
            datetime.now(UTC).replace(tzinfo=None),
        ),
    )
