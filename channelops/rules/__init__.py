"""Business rules finance and channel managers edit: rebate programs and scorecards.

Programs live in ``<config_dir>/programs/*.yml`` (one file per program),
scorecard weights and tier thresholds in ``<config_dir>/scorecard.yml``.
Each file is validated before any run; a bad value is rejected with the
file, the key and the reason. Valid rules are written to the warehouse's
``config`` schema, where the dbt models read them.
"""

from __future__ import annotations

from channelops.rules.adjustments import (
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
    "write_rules",
]


def write_rules(
    warehouse: Warehouse,
    programs: list[RebateProgram],
    scorecard: ScorecardRules,
    adjustments: list[Adjustment] | None = None,
) -> None:
    """Replace the warehouse's config tables with the validated rules.

    The tables are derived from the files alone, so they are dropped and
    created afresh: a column added to the rules never meets an old table.
    On PostgreSQL the dbt views reading them go too (``cascade``; DuckDB
    keeps them): the build that follows creates them again.
    """
    tables = {
        **program_tables(programs),
        **adjustment_tables(adjustments or []),
        **scorecard_tables(scorecard),
    }
    with warehouse.transaction():
        for name, (ddl, rows) in tables.items():
            warehouse.execute(f"drop table if exists {name} cascade")
            warehouse.execute(ddl)
            warehouse.insert_arrow(name, rows)
