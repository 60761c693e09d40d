"""Business rules finance and channel managers edit: rebate programs and scorecards.

Programs live in ``<config_dir>/programs/*.yml`` (one file per program),
scorecard weights and tier thresholds in ``<config_dir>/scorecard.yml``.
Each file is validated before any run; a bad value is rejected with the
file, the key and the reason. Valid rules are written to the warehouse's
``config`` schema, where the dbt models read them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa

from channelops.rules.adjustments import (
    ADJUSTMENTS_FILE,
    Adjustment,
    adjustment_tables,
    load_adjustments,
)
from channelops.rules.programs import RebateProgram, Tier, load_programs, program_tables
from channelops.rules.scorecard import ScorecardRules, load_scorecard, scorecard_tables
from channelops.warehouse import Warehouse

__all__ = [
    "Adjustment",
    "RebateProgram",
    "ScorecardRules",
    "Tier",
    "load_adjustments",
    "load_programs",
    "load_scorecard",
    "rule_file_digests",
    "write_rules",
]


def rule_file_digests(config_dir: Path) -> list[tuple[str, str]]:
    """(file, sha256) of each program file and the adjustments file.

    They go into a settlement's inputs hash, so that a rule change shows in
    the ledger even where it leaves a statement's amounts as they were.
    """
    paths = sorted((config_dir / "programs").glob("*.yml"))
    adjustments = config_dir / ADJUSTMENTS_FILE
    if adjustments.exists():
        paths.append(adjustments)
    return [
        (
            path.relative_to(config_dir).as_posix(),
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in paths
    ]


RULE_FILES_DDL = """
create table config.rule_files (
    file_name varchar not null,
    file_sha256 varchar not null
)
"""


def write_rules(
    warehouse: Warehouse,
    programs: list[RebateProgram],
    scorecard: ScorecardRules,
    adjustments: list[Adjustment] | None = None,
    rule_files: Sequence[tuple[str, str]] = (),
) -> None:
    """Replace the warehouse's config tables with the validated rules.

    The tables are derived from the files alone. A table whose columns are
    the rules' columns keeps its definition and gets its rows replaced, so
    the dbt views over it stay (PostgreSQL refuses to drop a table views
    depend on); one whose columns changed is dropped with its views and
    created afresh, and the next dbt build creates the views again.
    """
    tables = {
        **program_tables(programs),
        **adjustment_tables(adjustments or []),
        **scorecard_tables(scorecard),
        "config.rule_files": (
            RULE_FILES_DDL,
            pa.table(
                {
                    "file_name": pa.array([n for n, _ in rule_files], pa.string()),
                    "file_sha256": pa.array([d for _, d in rule_files], pa.string()),
                }
            ),
        ),
    }
    with warehouse.transaction():
        for name, (ddl, rows) in tables.items():
            _replace_table(warehouse, name, ddl, rows)


def _replace_table(warehouse: Warehouse, name: str, ddl: str, rows: pa.Table) -> None:
    schema, table = name.split(".")
    columns = [
        column
        for (column,) in warehouse.query(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            (schema, table),
        )
    ]
    if columns == rows.column_names:
        warehouse.execute(f"delete from {name}")
    else:
        if columns:
            cascade = " cascade" if warehouse.kind == "postgres" else ""
            warehouse.execute(f"drop table {name}{cascade}")
        warehouse.execute(ddl)
    warehouse.insert_arrow(name, rows)
