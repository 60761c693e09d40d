"""Shape checks every suite shares: a table's columns and their types.

Great Expectations cannot check column types on DuckDB, so the check reads
``information_schema.columns`` (the same view on DuckDB and PostgreSQL) and
compares each expected column with a type family: text, integer, date,
timestamp, boolean, or a decimal of a given scale. Money stored as a float
fails it, as does a column that is missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from channelops.contract import SCALES, ContractField, FieldType
from expectations.checks import Batch, Check, Severity, sql_check, sql_text

# data_type spellings of each family on DuckDB (upper-case) and PostgreSQL.
_FAMILY_TYPES = {
    "text": ("varchar", "character varying", "text"),
    "integer": ("smallint", "integer", "bigint", "hugeint"),
    "date": ("date",),
    "timestamp": ("timestamp", "timestamp without time zone"),
    "boolean": ("boolean",),
}
_NO_SCALE = -1


@dataclass(frozen=True)
class Column:
    """A column a table must have: its family and, for decimals, the scale."""

    name: str
    family: str
    scale: int = _NO_SCALE

    def __post_init__(self) -> None:
        if self.family != "decimal" and self.family not in _FAMILY_TYPES:
            raise ValueError(
                f"column {self.name!r}: expected a family among "
                f"{sorted((*_FAMILY_TYPES, 'decimal'))}, received {self.family!r}"
            )

    @property
    def expected(self) -> str:
        """The type as the alert shows it."""
        if self.family == "decimal":
            return f"decimal(*,{self.scale})"
        return self.family


def contract_column(field: ContractField) -> Column:
    """The column the pull stage creates for a contract field."""
    if field.type in SCALES:
        return Column(field.name, "decimal", SCALES[field.type])
    families = {
        FieldType.DATE: "date",
        FieldType.TIMESTAMP: "timestamp",
        FieldType.BOOLEAN: "boolean",
    }
    return Column(field.name, families.get(field.type, "text"))


def columns_check(
    name: str, table: str, columns: Iterable[Column], *, guards: str, remedy: str
) -> Check:
    """Block unless ``table`` has every column, each of its expected type."""
    schema, _, table_name = table.partition(".")
    expected = tuple(columns)
    batch = Batch(
        table="information_schema.columns",
        label=table,
        condition=(
            f"table_schema = {sql_text(schema)} and table_name = {sql_text(table_name)}"
        ),
    )
    return sql_check(
        name,
        batch,
        Severity.BLOCK,
        f"{table} has every column {guards} reads, each of the expected type "
        f"({', '.join(f'{c.name} {c.expected}' for c in expected)}).",
        remedy,
        _columns_sql(expected),
    )


def _columns_sql(columns: tuple[Column, ...]) -> str:
    rows = ",\n        ".join(
        f"({sql_text(c.name)}, {sql_text(c.family)}, {c.scale}, {sql_text(c.expected)})"
        for c in columns
    )
    families = "\n        or ".join(
        f"(expected.family = {sql_text(family)} and lower(actual.data_type) in "
        f"({', '.join(sql_text(t) for t in spellings)}))"
        for family, spellings in _FAMILY_TYPES.items()
    )
    return f"""
select
    expected.column_name,
    expected.expected_type,
    actual.data_type as actual_type
from (
    values
        {rows}
) as expected (column_name, family, numeric_scale, expected_type)
left join {{batch}} as actual
    on actual.column_name = expected.column_name
where
    actual.column_name is null
    or not (
        {families}
        or (
            expected.family = 'decimal'
            and (
                lower(actual.data_type) like 'decimal%'
                or lower(actual.data_type) like 'numeric%'
            )
            and actual.numeric_scale = expected.numeric_scale
        )
    )
order by expected.column_name
"""
