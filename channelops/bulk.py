"""Type a simple CSV export in DuckDB instead of row by row.

The row parser (``channelops.pull``) spends a few microseconds of Python on
every cell. A CSV file whose structure is provably simple is instead read by
DuckDB: one record per line (no quoted line breaks, no blank lines, one kind
of line end), as many cells as the header on every line, and quotes only
around whole values (DuckDB's strict reader refuses other quoting, and it
trims spaces outside quotes where Python's ``csv`` keeps them, so a quote
next to a space is not simple either). Each contract field is then typed
for all rows at once:

- plain text in SQL: trimmed as ``str.strip`` trims, null spellings, the
  default, ``values:`` translations, templates over columns;
- decimals in SQL when the text has the plain shape (``-1234.5``, or grouped
  with the declared thousands separator) and no more places than the
  contract keeps; any other text is left to the row parser;
- every other field (dates, times, enumerations, currencies, e-mails,
  patterns) by typing each distinct text once with the field reader the row
  parser uses, so its values and verdicts are the row parser's.

A row is clean when every field is. The other rows go back to the row
parser with their cells, so every rejection is the one it gives; the caller
then checks duplicate keys over all typed rows and has the loadable rows
written to Parquet. Whatever makes a file not simple raises ``NotSimple``
with the reason, and the caller reads that file row by row.
"""

from __future__ import annotations

import csv
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb

from channelops.contract import SCALES, SQL_TYPES, ContractField, Dataset, FieldType
from channelops.mapping import DatasetMapping, FieldSource
from channelops.parsing import (
    DECIMAL_PRECISION,
    FieldProblem,
    ParseContext,
    value_reader,
)
from channelops.readers import (
    READ_CHUNK_BYTES,
    SourceRow,
    csv_encoding,
    decoded_text,
)

# What ``str.strip()`` removes (every character whose ``isspace()`` is true),
# as a regular-expression class: DuckDB's trim() removes spaces only, and
# with a list of characters to remove it is ten times slower than this.
PYTHON_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003"
    "\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
WHITESPACE_CLASS = (
    r"[\t-\r\x{1c}-\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}"
    r"\x{202f}\x{205f}\x{3000}]"
)
# Encodings DuckDB reads as they are; other files are transcoded first.
UTF8_ENCODINGS = frozenset({"utf-8", "utf-8-sig"})
# Thousands separators typed in SQL, as regular-expression text; a dataset
# with any other separator has its numbers typed by the field reader.
SQL_SEPARATORS = {",": ",", ".": r"\.", "'": "'", " ": " ", "_": "_"}
# DuckDB may take 80 % of the machine per database by default; beyond this
# a file's tables spill to disk, so parse workers stay within bounds.
BULK_MEMORY_LIMIT = "1GB"
# Rows handed back to the row parser are fetched this many at a time, and
# typed values go to DuckDB this many at a time (as lists of text).
UNCLEAN_BATCH_ROWS = 10_000
VALUE_BATCH_ROWS = 100_000


class NotSimple(Exception):
    """The file cannot be typed in bulk; the message says why, for the log."""


def _output_type(field_type: FieldType) -> str:
    """The SQL type of a field's typed values: every decimal has 18 digits."""
    if field_type in SCALES:
        return f"decimal({DECIMAL_PRECISION},{SCALES[field_type]})"
    return SQL_TYPES[field_type]


# The file: is it simple, and where DuckDB reads it from.


@dataclass(frozen=True)
class SimpleCsv:
    """A CSV file whose data records are its lines, as DuckDB will read it."""

    encoding: str
    header: list[str]
    # The UTF-8 file DuckDB reads, and the lines before its first record.
    data_path: Path
    skip_lines: int
    records: int


def inspect_csv(
    path: Path,
    mapping: DatasetMapping,
    scratch: Path,
    chunk_bytes: int = READ_CHUNK_BYTES,
) -> SimpleCsv:
    """Check that the file is simple, transcoding it to UTF-8 if need be.

    Stops at the first thing that is not simple (``NotSimple``); bad bytes
    raise ``InputError`` as they do for the row-by-row reader.
    """
    delimiter = mapping.delimiter
    if len(delimiter) != 1 or not delimiter.isascii() or delimiter in '" \r\n':
        raise NotSimple(f"the delimiter {delimiter!r} is not one plain character")
    encoding = csv_encoding(path, mapping)
    lines = _Lines(decoded_text(path, encoding, chunk_bytes))
    header = _header(lines, mapping)
    ends = _LineEnds()
    for line in lines.consumed:
        ends.feed(line)
    data = _DataLines(ends, delimiter)
    # DuckDB parses quotes in the lines it skips, so a header with quotes
    # is left out of a copy rather than skipped.
    in_place = encoding in UTF8_ENCODINGS and not any('"' in h for h in lines.consumed)
    copy = None if in_place else scratch / "data.utf8.csv"
    _check_data(lines.rest(), data, copy)
    data.finish()
    ends.check()
    if data.records == 0:
        raise NotSimple("it has no data rows")
    skip = 0 if copy else len(lines.consumed)
    return SimpleCsv(encoding, header, copy or path, skip, data.records)


def _check_data(pieces: Iterator[str], data: _DataLines, copy: Path | None) -> None:
    """Feed every piece of the data lines to ``data``, and to ``copy`` if any."""
    if copy is None:
        for piece in pieces:
            data.feed(piece)
        return
    with copy.open("w", encoding="utf-8", newline="") as sink:
        for piece in pieces:
            data.feed(piece)
            sink.write(piece)


class _Lines:
    """Lines split at LF from text pieces, then the rest of the text as is."""

    def __init__(self, pieces: Iterator[str]) -> None:
        self._pieces = pieces
        self._buffer = ""
        self.consumed: list[str] = []

    def __iter__(self) -> Iterator[str]:
        while True:
            end = self._buffer.find("\n")
            while end < 0:
                piece = next(self._pieces, None)
                if piece is None:
                    if self._buffer:
                        yield self._take(len(self._buffer))
                    return
                start = len(self._buffer)
                self._buffer += piece
                end = self._buffer.find("\n", start)
            yield self._take(end + 1)

    def _take(self, length: int) -> str:
        line, self._buffer = self._buffer[:length], self._buffer[length:]
        self.consumed.append(line)
        return line

    def rest(self) -> Iterator[str]:
        if self._buffer:
            yield self._buffer
        yield from self._pieces


def _header(lines: _Lines, mapping: DatasetMapping) -> list[str]:
    """The header record, read as the row-by-row reader reads it."""
    reader = csv.reader(iter(lines), delimiter=mapping.delimiter)
    try:
        for _ in range(mapping.header_row - 1):
            next(reader)
        header = next(reader)
    except StopIteration:
        raise NotSimple("it ends before its header row") from None
    except csv.Error as exc:
        raise NotSimple(f"the lines down to the header are not plain ({exc})") from None
    if not header:
        raise NotSimple("its header row is blank")
    return [h.strip() for h in header]


class _LineEnds:
    """Line ends over the whole text: DuckDB needs all CR LF or all LF."""

    def __init__(self) -> None:
        self.lf = self.cr = self.crlf = 0
        self._last = ""

    def feed(self, piece: str) -> None:
        self.lf += piece.count("\n")
        self.cr += piece.count("\r")
        self.crlf += piece.count("\r\n") + (self._last == "\r" and piece[:1] == "\n")
        self._last = piece[-1:] or self._last

    def check(self) -> None:
        if self.cr and not self.cr == self.crlf == self.lf:
            raise NotSimple("its lines do not all end the same way (CR LF or LF)")


class _DataLines:
    """The data lines: counted, and checked for what only the row parser reads."""

    def __init__(self, ends: _LineEnds, delimiter: str) -> None:
        self._ends = ends
        # As if just after a line end, so that a blank first data line shows.
        self._tail = "\n"
        self._ended = 0
        self._open = False
        # The last line while it is incomplete, and what a line with quotes
        # must look like: each value either wholly quoted (doubled quotes
        # inside) or without quotes. Python's csv keeps a quote inside an
        # unquoted value (a""b) as text; DuckDB may split such a line
        # differently without a word.
        self._line = ""
        mark = re.escape(delimiter)
        value = rf'(?:"(?:[^"\r\n]|"")*"|[^"{mark}\r\n]*)'
        self._quoted_line = re.compile(rf"{value}(?:{mark}{value})*\r?")

    @property
    def records(self) -> int:
        """Lines, the last one counted even without its line end."""
        return self._ended + self._open

    def feed(self, piece: str) -> None:
        if "\x00" in piece:
            raise NotSimple("it contains NUL characters")
        probe = self._tail + piece
        if "\n\n" in probe or "\n\r\n" in probe:
            raise NotSimple("it has blank lines")
        if ' "' in probe or '" ' in probe:
            raise NotSimple("a quote stands next to a space")
        self._check_quotes(piece)
        self._ends.feed(piece)
        self._ended += piece.count("\n")
        self._open = not piece.endswith("\n")
        self._tail = probe[-2:]

    def finish(self) -> None:
        """Check the last line, which may have no line end."""
        self._check_quotes("\n")

    def _check_quotes(self, piece: str) -> None:
        text = self._line + piece
        cut = text.rfind("\n") + 1
        complete, self._line = text[:cut], text[cut:]
        if '"' not in complete:
            return
        for line in complete.split("\n"):
            if '"' in line and not self._quoted_line.fullmatch(line):
                raise NotSimple("quotes on a line do not enclose whole values on it")


# The rows: typed in SQL, or through the field reader per distinct text.


@dataclass(frozen=True)
class _FieldPlan:
    field: ContractField
    source: FieldSource | None
    # SQL of the raw value before trimming (a cell never is NULL here).
    raw: str
    # "unmapped", "text" and "decimal" are typed in SQL, "lookup" per text.
    how: str


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _plans(
    dataset: Dataset, mapping: DatasetMapping, header: list[str]
) -> list[_FieldPlan]:
    # As in dict(zip(header, cells)): the last of two equal names wins.
    columns = {name: f"c{index}" for index, name in enumerate(header)}
    plans = []
    for field in dataset.fields:
        source = mapping.fields.get(field.name)
        if source is None:
            plans.append(_FieldPlan(field, None, "", "unmapped"))
            continue
        raw = _raw_sql(field, source, columns)
        if field.type is FieldType.TEXT and field.pattern is None and not field.allowed:
            how = "text"
        elif field.type in SCALES and (
            mapping.thousands_separator is None
            or mapping.thousands_separator in SQL_SEPARATORS
        ):
            how = "decimal"
        else:
            how = "lookup"
        plans.append(_FieldPlan(field, source, raw, how))
    return plans


def _raw_sql(field: ContractField, source: FieldSource, columns: dict[str, str]) -> str:
    if source.column is not None:
        return f"coalesce({columns[source.column]}, '')"
    if source.value is not None:
        return _literal(source.value)
    assert source.template is not None
    parts = []
    for literal, name, spec, conversion in string.Formatter().parse(source.template):
        if literal:
            parts.append(_literal(literal))
        if name is None:
            continue
        if spec or conversion or not name or name.isdigit() or set(name) & set(".["):
            raise NotSimple(
                f"the template {source.template!r} of {field.name} does more "
                "than join columns"
            )
        # As parsing.source_value: each cell stripped, a missing one empty.
        parts.append(strip_sql(f"coalesce({columns[name]}, '')"))
    return f"concat({', '.join(parts)})" if parts else "''"


class BulkRows:
    """One simple CSV file's rows in an in-memory DuckDB of their own, typed."""

    def __init__(
        self,
        simple: SimpleCsv,
        dataset: Dataset,
        context: ParseContext,
        work: Path,
    ) -> None:
        self._simple, self._dataset, self._context = simple, dataset, context
        self._plans = _plans(dataset, context.mapping, simple.header)
        self._header_row = context.mapping.header_row
        # Tables beyond the memory limit spill to files in ``work``.
        self._work = work
        self._db = duckdb.connect(
            config={
                "memory_limit": BULK_MEMORY_LIMIT,
                "temp_directory": str(work / "spill"),
                "preserve_insertion_order": True,
            },
        )

    def __enter__(self) -> BulkRows:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._db.close()

    def load(self) -> None:
        """Read the cells, numbered in file order, and check DuckDB saw every line."""
        simple = self._simple
        names = [f"c{index}" for index in range(len(simple.header))]
        columns = "{" + ", ".join(f"'{name}': 'varchar'" for name in names) + "}"
        try:
            self._db.execute(
                "create table cells as "
                "select cast(row_number() over () as integer) as n, * "
                f"from read_csv(?, columns = {columns}, delim = ?, "
                f"skip = {simple.skip_lines}, header = false, quote = '\"', "
                "escape = '\"', auto_detect = false, strict_mode = true)",
                (str(simple.data_path), self._context.mapping.delimiter),
            )
        except duckdb.Error as exc:
            if "Expected Number of Columns" in str(exc):
                reason = "some rows have more or fewer cells than the header"
            else:
                first_line = str(exc).splitlines()[0]
                reason = f"DuckDB does not read it as Python's csv does ({first_line})"
            raise NotSimple(reason) from None
        longest = ", ".join(f"max(length({name}))" for name in names)
        count, longest_cell = self._one(
            f"select count(*), coalesce(greatest({longest}), 0) from cells"
        )
        if count != simple.records:
            raise NotSimple(f"DuckDB read {count} rows from {simple.records} lines")
        if longest_cell >= csv.field_size_limit():
            raise NotSimple("a value is longer than the CSV reader's limit")

    def _one(self, sql: str) -> tuple[Any, ...]:
        row = self._db.execute(sql).fetchone()
        assert row is not None
        return tuple(row)

    def type_rows(self) -> int:
        """Type every field of every row; the number of rows not clean."""
        for index, plan in enumerate(self._plans):
            if plan.how == "lookup":
                self._lookup(f"lookup_{index}", plan)
        typing = _typed_select(
            self._plans, self._context.mapping, len(self._simple.header)
        )
        self._db.execute(f"create table typed as {typing}")
        (unclean,) = self._one("select count(*) from typed where not clean")
        return int(unclean)

    def _lookup(self, name: str, plan: _FieldPlan) -> None:
        """Each distinct raw text of a field, typed by the row parser's reader."""
        assert plan.source is not None
        read = value_reader(plan.field, plan.source, self._context)
        output = _output_type(plan.field.type)
        self._db.execute(
            f"create table {name} (raw varchar, value {output}, clean boolean)"
        )
        texts = [
            t
            for (t,) in self._db.execute(
                f"select distinct {plan.raw} from cells"
            ).fetchall()
        ]
        for start in range(0, len(texts), VALUE_BATCH_ROWS):
            raws = texts[start : start + VALUE_BATCH_ROWS]
            values: list[str | None] = []
            clean: list[bool] = []
            for text in raws:
                try:
                    values.append(_exact_text(read(text)))
                    clean.append(True)
                except FieldProblem:
                    values.append(None)
                    clean.append(False)
            self._db.execute(
                f"insert into {name} select unnest(?), "
                f"cast(unnest(?) as {output}), unnest(?)",
                (raws, values, clean),
            )

    def unclean_rows(self) -> Iterator[SourceRow]:
        """The rows that are not clean, in file order, as the CSV reader gives them."""
        header, header_row = self._simple.header, self._header_row
        result = self._db.execute(
            "select n, cells from typed where not clean order by n"
        )
        while batch := result.fetchmany(UNCLEAN_BATCH_ROWS):
            for number, cells in batch:
                values = dict(zip(header, cells, strict=True))
                yield SourceRow(header_row + number, values)

    def replace_unclean(self, typed: list[dict[str, Any]]) -> None:
        """Put the row parser's rows without problems where the unclean rows were.

        ``typed`` are the row parser's values, with ``_row_number``.
        """
        self._db.execute("delete from typed where not clean")
        fields = self._dataset.fields
        names = ", ".join(f.name for f in fields)
        casts = "".join(f", cast(unnest(?) as {_output_type(f.type)})" for f in fields)
        for start in range(0, len(typed), VALUE_BATCH_ROWS):
            rows = typed[start : start + VALUE_BATCH_ROWS]
            numbers = [row["_row_number"] - self._header_row for row in rows]
            columns = [[_exact_text(row[f.name]) for row in rows] for f in fields]
            self._db.execute(
                f"insert into typed (n, {names}, clean) select unnest(?){casts}, true",
                (numbers, *columns),
            )

    def duplicate_keys(self) -> list[tuple[int, tuple[Any, ...], int]]:
        """(row, key, first row with that key) of every later row with a key."""
        keys = ", ".join(self._dataset.key)
        first = self._header_row
        return [
            (first + row[0], tuple(row[1:-1]), first + row[-1])
            for row in self._db.execute(
                f"select n, {keys}, first_n from (select n, {keys}, "
                f"min(n) over (partition by {keys}) as first_n from typed) "
                "where n <> first_n order by n"
            ).fetchall()
        ]

    def write(self, path: Path, lineage: dict[str, str]) -> None:
        """The typed rows, each key's first only, in file order, as Parquet."""
        keys = ", ".join(self._dataset.key)
        values = ", ".join(
            f"cast({f.name} as {_output_type(f.type)}) as {f.name}"
            for f in self._dataset.fields
        )
        tags = ", ".join(f"{_literal(v)} as {k}" for k, v in lineage.items())
        self._db.execute(
            f"copy (select {values}, {tags}, "
            f"cast({self._header_row} + n as integer) as _row_number "
            f"from typed qualify min(n) over (partition by {keys}) = n "
            f"order by n) to {_literal(str(path))} (format parquet)"
        )


def _typed_select(plans: list[_FieldPlan], mapping: DatasetMapping, width: int) -> str:
    """The SQL typing every field: CTEs that each add one step's columns."""
    steps: list[list[str]] = [[], [], [], [], []]
    values, clean, joins = [], [], []
    for i, plan in enumerate(plans):
        field, source = plan.field, plan.source
        output = _output_type(field.type)
        if source is None:
            values.append(f"cast(null as {output}) as {field.name}")
            continue
        if plan.how == "lookup":
            steps[0].append(f"{plan.raw} as r{i}")
            joins.append(f"left join lookup_{i} as l{i} on l{i}.raw = step5.r{i}")
            values.append(f"cast(l{i}.value as {output}) as {field.name}")
            clean.append(f"coalesce(l{i}.clean, false)")
            continue
        steps[0].append(f"{strip_sql(plan.raw)} as t{i}")
        steps[1].append(f"{_nulled(f't{i}', source, mapping.null_values)} as u{i}")
        steps[2].append(f"{_translated(f'u{i}', source)} as v{i}")
        steps[2].append(f"(u{i} is null or u{i} = '') as m{i}")
        missing_is_clean = "false" if field.required else "true"
        if plan.how == "text":
            values.append(f"case when m{i} then null else v{i} end as {field.name}")
            clean.append(f"(not m{i} or {missing_is_clean})")
            continue
        shape = _literal(_plain_number(SCALES[field.type]))
        steps[3].append(f"{_ungrouped(f'v{i}', mapping.thousands_separator)} as g{i}")
        steps[4].append(
            f"case when regexp_full_match(g{i}, {shape}) "
            f"then try_cast(g{i} as {output}) end as d{i}"
        )
        values.append(f"case when m{i} then null else d{i} end as {field.name}")
        clean.append(
            f"case when m{i} then {missing_is_clean} "
            f"else d{i} is not null{_bounds(f'd{i}', field)} end"
        )
    ctes = ["step0 as (select * from cells)"]
    for number, columns in enumerate(steps, start=1):
        added = "".join(f", {column}" for column in columns)
        ctes.append(f"step{number} as (select *{added} from step{number - 1})")
    cells = [f"c{index}" for index in range(width)]
    judged = (
        f"judged as (select step5.n, {', '.join(f'step5.{c}' for c in cells)}, "
        f"{', '.join(values)}, {' and '.join(clean) or 'true'} as clean "
        f"from step5 {' '.join(joins)})"
    )
    texts = ", ".join(f"coalesce({c}, '')" for c in cells)
    names = ", ".join(plan.field.name for plan in plans)
    return (
        f"with {', '.join(ctes)}, {judged} "
        f"select n, {names}, clean, "
        f"case when clean then null else [{texts}] end as cells from judged"
    )


def _exact_text(value: Any) -> str | None:
    """A typed value as text that DuckDB casts back to exactly that value."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    raise TypeError(f"expected a typed contract value, got {value!r}")


def strip_sql(text: str) -> str:
    """``text.strip()`` in SQL; most cells have nothing to strip."""
    ends = _literal(f"^{WHITESPACE_CLASS}|{WHITESPACE_CLASS}$")
    runs = _literal(f"^{WHITESPACE_CLASS}+|{WHITESPACE_CLASS}+$")
    return (
        f"case when regexp_matches({text}, {ends}) "
        f"then regexp_replace({text}, {runs}, '', 'g') else {text} end"
    )


def _nulled(text: str, source: FieldSource, nulls: list[str]) -> str:
    """A null spelling becomes the field's default (or NULL)."""
    if not nulls:
        return text
    default = "null" if source.default is None else _literal(source.default)
    spellings = ", ".join(_literal(null) for null in nulls)
    return f"case when {text} in ({spellings}) then {default} else {text} end"


def _translated(text: str, source: FieldSource) -> str:
    if not source.values:
        return text
    whens = " ".join(
        f"when {_literal(spelling)} then {_literal(value)}"
        for spelling, value in source.values.items()
    )
    return f"case {text} {whens} else {text} end"


def _ungrouped(text: str, separator: str | None) -> str:
    """'1,234.5' without its grouping when it is grouped like parsing's pattern."""
    if separator is None:
        return text
    mark = SQL_SEPARATORS[separator]
    grouped = _literal(rf"-?[0-9]{{1,3}}({mark}[0-9]{{3}})+(\.[0-9]+)?")
    return (
        f"case when regexp_full_match({text}, {grouped}) "
        f"then replace({text}, {_literal(separator)}, '') else {text} end"
    )


def _plain_number(scale: int) -> str:
    """ASCII digits that fit decimal(18, scale) with no more places than it keeps."""
    places = rf"(\.[0-9]{{1,{scale}}})?" if scale else ""
    return rf"-?0*[0-9]{{1,{DECIMAL_PRECISION - scale}}}{places}"


def _bounds(number: str, field: ContractField) -> str:
    checks = ""
    for bound, operator in ((field.minimum, ">="), (field.maximum, "<=")):
        if bound is not None:
            exponent = Decimal(bound).as_tuple().exponent
            assert isinstance(exponent, int)
            exact = f"cast({_literal(bound)} as decimal(38,{max(0, -exponent)}))"
            checks += f" and {number} {operator} {exact}"
    return checks
